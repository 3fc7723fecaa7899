"""Maintenance windows (service function `maintenance_planning`): API viewsets."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from engagements.entitlements import EntitledViewSetMixin, FunctionCode
from portal.api.pagination import PortalCursorPagination
from portal.api.views import PortalCreateReadUpdateViewSet
from portal.http import actor
from reviews.maintenance import services
from reviews.maintenance.filters import MaintenanceWindowFilter
from reviews.maintenance.models import MaintenanceWindow
from reviews.maintenance.selectors import annotate_conflicts
from reviews.maintenance.serializers import (
    MaintenanceWindowSerializer,
    MaintenanceWindowUpdateSerializer,
)

ERRORS = {
    400: OpenApiResponse(description="validation_error"),
    403: OpenApiResponse(description="permission_denied or not_entitled"),
    404: OpenApiResponse(description="not_found"),
    409: OpenApiResponse(description="conflict"),
}


class WindowPagination(PortalCursorPagination):
    ordering = ("starts_at", "id")


class FunctionViewSet(EntitledViewSetMixin, PortalCreateReadUpdateViewSet):
    """Read, create and PATCH rows of one service function, gated by the entitlement."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def _input(self, serializer_class: type[BaseSerializer], request: Request) -> dict[str, Any]:
        serializer = serializer_class(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _respond(self, row: Any, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=row.pk)
        assert self.serializer_class is not None  # every viewset here declares one
        return Response(
            self.serializer_class(fresh, context=self.get_serializer_context()).data,
            status=status_code,
        )


@extend_schema(tags=["maintenance"])
class MaintenanceWindowViewSet(FunctionViewSet):
    """Maintenance windows of the engagements the actor may see, earliest first.

    The engagement's manager, deputy or an admin `POST`s a window (named contacts are notified)
    and `PATCH`es it: its fields while open, or `status` (planned → confirmed → done, or
    cancelled). `conflicts` flags overlaps with approved after-hours requests and holidays."""

    function_code = FunctionCode.MAINTENANCE
    queryset = MaintenanceWindow.objects.all()
    serializer_class = MaintenanceWindowSerializer
    filterset_class = MaintenanceWindowFilter
    pagination_class = WindowPagination

    def get_queryset(self) -> QuerySet[MaintenanceWindow]:
        return MaintenanceWindow.objects.select_related("engagement__plan")

    def list(self, request: Request, *args: object, **kwargs: object) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None  # the viewset paginates
        annotate_conflicts(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={201: MaintenanceWindowSerializer, **ERRORS})
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = self._input(MaintenanceWindowSerializer, request)
        window = services.maintenance_plan(acting_user=actor(request), **data)
        return self._respond(window, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=MaintenanceWindowUpdateSerializer,
        responses={200: MaintenanceWindowSerializer, **ERRORS},
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        window = self.get_object()
        serializer = MaintenanceWindowUpdateSerializer(
            window, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        new_status = data.pop("status", None)
        if data:
            window = services.maintenance_update(acting_user=actor(request), window=window, **data)
        if new_status is not None:
            window = services.maintenance_update_status(
                acting_user=actor(request), window=window, status=new_status
            )
        return self._respond(window)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        kwargs["partial"] = True
        return self.partial_update(request, *args, **kwargs)
