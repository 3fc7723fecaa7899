"""The API of two service functions: the risk register (`/risks/`, plans with
`risk_mitigation`) and the customer's ranked fix requests (`/fix-requests/`, plans with
`software_performance_reports`).

Writes go through `cases.services_functions`, which decides who may do what (403
`permission_denied`, `not_entitled`). Lists show only engagements whose plan includes the
function; `?engagement=` naming one whose plan lacks it answers 403 `not_entitled`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from cases import services_functions as services
from cases.filters_functions import FixRequestFilter, RiskFilter
from cases.models import Case, FixRequest, Risk
from engagements.api.serializers import ProviderStaffField
from engagements.entitlements import EntitledViewSetMixin, FunctionCode
from engagements.models import Engagement
from portal.api.pagination import KeysetCursorPagination
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer, StrictSerializer
from portal.api.views import PortalCreateReadUpdateViewSet
from portal.http import actor

TEXT_MAX = 20_000
ERRORS = {
    400: OpenApiResponse(description="validation_error"),
    403: OpenApiResponse(description="permission_denied or not_entitled"),
    404: OpenApiResponse(description="not_found"),
}

# --- Serializers -------------------------------------------------------------------------------


class RiskSerializer(StrictModelSerializer):
    """A risk of an engagement's register; `score` is likelihood × impact. The owner is
    provider staff (default: the engagement's manager). The engagement is set on creation."""

    engagement = ScopedRelatedField(model=Engagement)
    owner = ProviderStaffField(required=False, allow_null=True)

    class Meta:
        model = Risk
        fields = [
            "id",
            "engagement",
            "title",
            "description",
            "likelihood",
            "impact",
            "score",
            "mitigation_plan",
            "owner",
            "status",
            "next_review_date",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "score", "created_by", "created_at", "updated_at"]
        extra_kwargs = {
            "description": {"required": False, "max_length": TEXT_MAX},
            "mitigation_plan": {"required": False, "max_length": TEXT_MAX},
        }

    def validate_engagement(self, engagement: Engagement) -> Engagement:
        if self.instance is not None and engagement.pk != self.instance.engagement_id:
            raise serializers.ValidationError(_("A risk stays on its engagement."))
        return engagement


def _scoped_cases(request: Any) -> QuerySet[Case]:
    return Case.objects.all()


class FixRequestSerializer(StrictModelSerializer):
    """A fix the customer asks for. On creation: `engagement`, `title`, `description`, `case`
    (of the same engagement) and optionally `customer_rank` (default: last)."""

    engagement = ScopedRelatedField(model=Engagement)
    case = ScopedRelatedField(model=Case, choices=_scoped_cases, required=False, allow_null=True)
    customer_rank = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=_("1 is the most important; reorder with POST /fix-requests/rank/."),
    )

    class Meta:
        model = FixRequest
        fields = [
            "id",
            "engagement",
            "title",
            "description",
            "case",
            "customer_rank",
            "vendor_status",
            "target_release",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "vendor_status",
            "target_release",
            "created_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"description": {"required": False, "max_length": TEXT_MAX}}
        # Ranks are unique among open requests: the service re-numbers instead of refusing.
        validators: list = []


class FixRequestVendorSerializer(StrictSerializer):
    """What provider staff change on a fix request."""

    vendor_status = serializers.ChoiceField(choices=FixRequest.VendorStatus.choices)
    target_release = serializers.CharField(required=False, allow_blank=True, max_length=100)


class FixRankSerializer(StrictSerializer):
    engagement = ScopedRelatedField(model=Engagement)
    order = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        allow_empty=True,
        max_length=1000,
        help_text=_("Every open fix request id of the engagement, most important first."),
    )


# --- Viewsets ----------------------------------------------------------------------------------


class RiskPagination(KeysetCursorPagination):
    ordering = ("-score", "id")


class FixRequestPagination(KeysetCursorPagination):
    ordering = ("engagement_id", "customer_rank", "id")


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
