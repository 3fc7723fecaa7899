"""Release management: announced changes and their acknowledgements: API viewsets."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.entitlements import FunctionCode
from portal.api.pagination import PortalCursorPagination
from portal.http import actor
from reviews.maintenance.api import ERRORS, FunctionViewSet
from reviews.releases import services
from reviews.releases.filters import ChangeItemFilter
from reviews.releases.models import ChangeAcknowledgement, ChangeItem
from reviews.releases.serializers import ChangeItemSerializer, ChangeItemUpdateSerializer


class ChangePagination(PortalCursorPagination):
    ordering = ("scheduled_at", "id")


@extend_schema(tags=["release management"])
class ChangeItemViewSet(FunctionViewSet):
    """Platform, software and architecture changes of the engagements the actor may see,
    earliest first, with who acknowledged each.

    The engagement's manager, deputy or an admin `POST`s and `PATCH`es changes; named contacts
    `acknowledge` them (idempotent)."""

    function_code = FunctionCode.RELEASE_MANAGEMENT
    queryset = ChangeItem.objects.all()
    serializer_class = ChangeItemSerializer
    filterset_class = ChangeItemFilter
    pagination_class = ChangePagination

    def get_queryset(self) -> QuerySet[ChangeItem]:
        return ChangeItem.objects.select_related("engagement__plan").prefetch_related(
            Prefetch(
                "acknowledgements",
                queryset=ChangeAcknowledgement.objects.select_related("user"),
            )
        )

    @extend_schema(responses={201: ChangeItemSerializer, **ERRORS})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = self._input(ChangeItemSerializer, request)
        change = services.change_plan(acting_user=actor(request), **data)
        return self._respond(change, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=ChangeItemUpdateSerializer, responses={200: ChangeItemSerializer, **ERRORS}
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        change = self.get_object()
        serializer = ChangeItemUpdateSerializer(
            change, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        if data:
            change = services.change_update(acting_user=actor(request), change=change, **data)
        if new_status is not None:
            change = services.change_update_status(
                acting_user=actor(request), change=change, status=new_status
            )
        return self._respond(change)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        kwargs["partial"] = True
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: ChangeItemSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """A named contact acknowledges the change; again changes nothing."""
        change = self.get_object()
        services.change_acknowledge(acting_user=actor(request), change=change)
        return self._respond(change)
