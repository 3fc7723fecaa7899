"""The service catalog (plans, functions, entitlement matrix, cadences): API viewsets."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.catalog import services
from engagements.catalog.filters import PlanFilter, ServiceFunctionFilter
from engagements.catalog.models import Cadence, Entitlement, Plan, ServiceFunction
from engagements.catalog.serializers import PlanSerializer, ServiceFunctionSerializer
from portal.api.pagination import PortalCursorPagination
from portal.api.permissions import AdminWritesOthersRead
from portal.api.views import (
    PortalCreateReadUpdateViewSet,
)
from portal.http import actor

DEFAULT_PERMISSIONS = PortalCreateReadUpdateViewSet.permission_classes


def cursor_by(*ordering: str) -> type[PortalCursorPagination]:
    """Cursor pagination in the list's natural order (ending in a unique field)."""
    return type("CursorPagination", (PortalCursorPagination,), {"ordering": ordering})


@extend_schema(tags=["catalog"])
class PlanViewSet(PortalCreateReadUpdateViewSet):
    """Plans (tiers) with their entitlements and cadences. Everyone signed in reads them;
    provider admins add plans and change their settings."""

    queryset = Plan.objects.all()
    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    permission_classes = [*DEFAULT_PERMISSIONS, AdminWritesOthersRead]
    pagination_class = cursor_by("position", "id")

    def get_queryset(self) -> QuerySet[Plan]:
        return Plan.objects.prefetch_related(
            Prefetch(
                "entitlements",
                queryset=Entitlement.objects.select_related("function").order_by(
                    "function__position", "function__id"
                ),
            ),
            Prefetch("cadences", queryset=Cadence.objects.select_related("deliverable")),
        )

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        plan = services.plan_save(acting_user=actor(request), code=fields.pop("code"), **fields)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=plan.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        plan = self.get_object()
        serializer = self.get_serializer(
            plan, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        fields = {k: v for k, v in serializer.validated_data.items() if k != "code"}
        services.plan_save(acting_user=actor(request), plan=plan, **fields)
        return Response(self.get_serializer(self.get_queryset().get(pk=plan.pk)).data)


@extend_schema(tags=["catalog"])
class ServiceFunctionViewSet(PortalCreateReadUpdateViewSet):
    """Service functions. Codes are fixed; provider admins add functions and edit their text."""

    queryset = ServiceFunction.objects.all()
    serializer_class = ServiceFunctionSerializer
    filterset_class = ServiceFunctionFilter
    permission_classes = [*DEFAULT_PERMISSIONS, AdminWritesOthersRead]
    pagination_class = cursor_by("position", "id")

    def get_queryset(self) -> QuerySet[ServiceFunction]:
        return ServiceFunction.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        function = services.service_function_save(
            acting_user=actor(request),
            code=data["code"],
            name=data["name"],
            description=data.get("description", ""),
            name_ko=data.get("name_ko", ""),
            description_ko=data.get("description_ko", ""),
        )
        return Response(self.get_serializer(function).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        function = self.get_object()
        serializer = self.get_serializer(
            function, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        function = services.service_function_save(
            acting_user=actor(request),
            function=function,
            name=data.get("name", function.name),
            description=data.get("description", function.description),
            name_ko=data.get("name_ko", function.name_ko),
            description_ko=data.get("description_ko", function.description_ko),
        )
        return Response(self.get_serializer(function).data)
