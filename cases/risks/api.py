"""The risk register (service function `risk_mitigation`): API viewsets."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from cases.risks import services
from cases.risks.filters import RiskFilter
from cases.risks.models import Risk
from cases.risks.serializers import RiskSerializer
from engagements.entitlements import EntitledViewSetMixin, FunctionCode
from portal.api.pagination import KeysetCursorPagination
from portal.api.views import PortalCreateReadUpdateViewSet
from portal.http import actor


class RiskPagination(KeysetCursorPagination):
    ordering = ("-score", "id")


@extend_schema(tags=["risks"])
class RiskViewSet(EntitledViewSetMixin, PortalCreateReadUpdateViewSet):
    """The risk registers of the engagements the actor may see (plans with risk_mitigation),
    highest score first. Staff serving the engagement create and change risks; customers read."""

    function_code = FunctionCode.RISK_MITIGATION
    hide_unentitled_rows = True  # a row of an engagement without it answers 404
    queryset = Risk.objects.all()
    serializer_class = RiskSerializer
    filterset_class = RiskFilter
    pagination_class = RiskPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Risk]:
        return Risk.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        risk = services.risk_create(acting_user=actor(request), **data)
        return Response(self.get_serializer(risk).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        risk = self.get_object()
        serializer = self.get_serializer(risk, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        changes.pop("engagement", None)
        risk = services.risk_update(acting_user=actor(request), risk=risk, **changes)
        return Response(self.get_serializer(risk).data)
