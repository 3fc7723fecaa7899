"""Fix requests, software performance reports (service function `software_performance_report`): API
viewsets.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases.fixes import services
from cases.fixes.filters import FixRequestFilter
from cases.fixes.models import FixRequest
from cases.fixes.serializers import (
    FixRankSerializer,
    FixRequestSerializer,
    FixRequestVendorSerializer,
)
from engagements.entitlements import EntitledViewSetMixin, FunctionCode
from portal.api.pagination import KeysetCursorPagination
from portal.api.views import PortalCreateReadUpdateViewSet
from portal.http import actor

ERRORS = {
    400: OpenApiResponse(description="validation_error"),
    403: OpenApiResponse(description="permission_denied or not_entitled"),
    404: OpenApiResponse(description="not_found"),
}


class FixRequestPagination(KeysetCursorPagination):
    ordering = ("engagement_id", "customer_rank", "id")


@extend_schema(tags=["fix requests"])
class FixRequestViewSet(EntitledViewSetMixin, PortalCreateReadUpdateViewSet):
    """The customers' fix requests (plans with software_performance_reports), by engagement
    and customer rank. Named contacts create and rank them (`rank/`); staff set the vendor
    status and target release (PATCH)."""

    function_code = FunctionCode.SOFTWARE_PERFORMANCE_REPORTS
    hide_unentitled_rows = True  # a row of an engagement without it answers 404
    queryset = FixRequest.objects.all()
    serializer_class = FixRequestSerializer
    filterset_class = FixRequestFilter
    pagination_class = FixRequestPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[FixRequest]:
        return FixRequest.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fix = services.fix_request_create(acting_user=actor(request), **serializer.validated_data)
        return Response(
            FixRequestSerializer(fix, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=FixRequestVendorSerializer, responses={200: FixRequestSerializer})
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Staff: the vendor status and target release."""
        fix = self.get_object()
        serializer = FixRequestVendorSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fix = services.fix_request_set_vendor_status(
            acting_user=actor(request), fix_request=fix, **serializer.validated_data
        )
        return Response(FixRequestSerializer(fix, context=self.get_serializer_context()).data)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        request=FixRankSerializer, responses={200: FixRequestSerializer(many=True), **ERRORS}
    )
    @action(
        detail=False,
        methods=["post"],
        serializer_class=FixRankSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def rank(self, request: Request) -> Response:
        """Named contacts: rank the engagement's open fix requests; `order` lists each of them
        once, most important first. Any other id refuses the order (400)."""
        serializer = FixRankSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        ordered = services.fix_request_rank(
            acting_user=actor(request),
            engagement=serializer.validated_data["engagement"],
            ordered_ids=serializer.validated_data["order"],
        )
        return Response(
            FixRequestSerializer(ordered, many=True, context=self.get_serializer_context()).data
        )
