"""The API of three service functions: customer profiles (`/customer-profiles/`, all plans),
the advocacy log (`/advocacy-items/`, plans with `customer_advocacy`) and upgrade plans
(`/upgrade-plans/`, plans with `upgrade_planning`).

Writes go through `engagements.services_functions`, which decides who may do what (403
`permission_denied`, `not_entitled`). Lists show only engagements whose plan includes the
function; `?engagement=` naming one whose plan lacks it answers 403 `not_entitled`.
"""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from engagements import services_functions as services
from engagements.entitlements import EntitledViewSetMixin, FunctionCode, require_entitlement
from engagements.filters_functions import (
    AdvocacyItemFilter,
    CustomerProfileFilter,
    UpgradePlanFilter,
)
from engagements.models import (
    AdvocacyItem,
    CustomerProfile,
    Engagement,
    UpgradeMilestone,
    UpgradePlan,
)
from portal.accounts.models import User
from portal.api.pagination import KeysetCursorPagination
from portal.api.serializers import ScopedRelatedField, StrictModelSerializer
from portal.api.views import PortalCreateReadUpdateViewSet, PortalReadUpdateViewSet
from portal.http import actor

TEXT_MAX = services.TEXT_MAX
ERRORS = {
    400: OpenApiResponse(description="validation_error"),
    403: OpenApiResponse(description="permission_denied or not_entitled"),
    404: OpenApiResponse(description="not_found"),
}

# --- Serializers -------------------------------------------------------------------------------


class CustomerProfileSerializer(StrictModelSerializer):
    """The customer profile of an engagement (an empty one, `id` null, before the first edit).
    Every change is kept in its history."""

    class Meta:
        model = CustomerProfile
        fields = [
            "id",
            "engagement",
            "roadmap",
            "use_cases",
            "priorities",
            "key_dates",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = ["id", "engagement", "updated_by", "updated_at"]
        extra_kwargs = {
            name: {"required": False, "max_length": TEXT_MAX} for name in services.PROFILE_FIELDS
        }


class AdvocacyItemSerializer(StrictModelSerializer):
    """An item of the advocacy log. Named contacts and staff create it (`engagement`, `kind`,
    `title`, `description`); staff set `status`, `outcome` and `internal_reference`."""

    engagement = ScopedRelatedField(model=Engagement)

    class Meta:
        model = AdvocacyItem
        fields = [
            "id",
            "engagement",
            "kind",
            "title",
            "description",
            "raised_by",
            "status",
            "outcome",
            "internal_reference",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "raised_by", "created_at", "updated_at"]
        extra_kwargs = {
            "description": {"required": False, "max_length": TEXT_MAX},
            "outcome": {"required": False, "max_length": TEXT_MAX},
            "status": {"required": False},
        }

    def validate_engagement(self, engagement: Engagement) -> Engagement:
        if self.instance is not None and engagement.pk != self.instance.engagement_id:
            raise serializers.ValidationError(_("An item stays on its engagement."))
        return engagement


class MilestoneOwnerField(serializers.PrimaryKeyRelatedField):
    """Active provider staff or an active person of the plan's organization (the serializer's
    `engagement` context); anyone else fails exactly like an id that does not exist."""

    def get_queryset(self) -> QuerySet[User]:
        engagement = self.context.get("engagement")
        if engagement is None:
            return User.objects.none()
        staff = Q(kind__in=[User.Kind.ADMIN, User.Kind.MANAGER])
        people = Q(
            memberships__organization_id=engagement.organization_id,
            memberships__is_active=True,
        )
        return User.objects.filter(staff | people, is_active=True).distinct()


class UpgradeMilestoneSerializer(StrictModelSerializer):
    owner = MilestoneOwnerField(required=False, allow_null=True)

    class Meta:
        model = UpgradeMilestone
        fields = ["id", "title", "due_date", "owner", "owner_name", "done", "done_at"]
        read_only_fields = ["id", "done", "done_at"]
        extra_kwargs = {"owner_name": {"required": False}}


class UpgradePlanSerializer(StrictModelSerializer):
    """An upgrade plan with its milestones (read; add one with POST .../milestones/)."""

    engagement = ScopedRelatedField(model=Engagement)
    milestones = UpgradeMilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = UpgradePlan
        fields = [
            "id",
            "engagement",
            "current_version",
            "target_version",
            "status",
            "notes",
            "milestones",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "milestones", "created_by", "created_at", "updated_at"]
        extra_kwargs = {
            "notes": {"required": False, "max_length": TEXT_MAX},
            "status": {"required": False},
        }

    def validate_engagement(self, engagement: Engagement) -> Engagement:
        if self.instance is not None and engagement.pk != self.instance.engagement_id:
            raise serializers.ValidationError(_("A plan stays on its engagement."))
        return engagement


# --- Viewsets ----------------------------------------------------------------------------------


class CustomerProfilePagination(KeysetCursorPagination):
    ordering = ("engagement_id", "id")


class AdvocacyItemPagination(KeysetCursorPagination):
    ordering = ("-created_at", "-id")


class UpgradePlanPagination(KeysetCursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema(tags=["customer profiles"])
class CustomerProfileViewSet(EntitledViewSetMixin, PortalReadUpdateViewSet):
    """Customer profiles by engagement id: `/customer-profiles/<engagement>/` reads one (empty
    before the first edit); the engagement's staff and named contacts change it (PATCH/PUT)."""

    function_code = FunctionCode.CUSTOMER_INTELLIGENCE
    hide_unentitled_rows = True  # a row of an engagement without it answers 404
    queryset = CustomerProfile.objects.all()
    serializer_class = CustomerProfileSerializer
    filterset_class = CustomerProfileFilter
    pagination_class = CustomerProfilePagination
    lookup_field = "engagement"
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "put", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[CustomerProfile]:
        return CustomerProfile.objects.all()

    def _engagement(self) -> Engagement:
        engagement = get_object_or_404(
            Engagement.objects.select_related("plan"), pk=int(self.kwargs["engagement"])
        )
        require_entitlement(engagement, self.function_code)
        return engagement

    def get_object(self) -> CustomerProfile:
        return services.customer_profile_of(self._engagement())

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        engagement = self._engagement()
        serializer = self.get_serializer(
            services.customer_profile_of(engagement), data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        profile = services.customer_profile_update(
            acting_user=actor(request), engagement=engagement, **serializer.validated_data
        )
        return Response(self.get_serializer(profile).data)


@extend_schema(tags=["advocacy items"])
class AdvocacyItemViewSet(EntitledViewSetMixin, PortalCreateReadUpdateViewSet):
    """The advocacy logs of the engagements the actor may see (plans with customer_advocacy),
    newest first. Named contacts and staff add items; staff set status and outcome; the contact
    who raised an item may reword it while it is open."""

    function_code = FunctionCode.CUSTOMER_ADVOCACY
    hide_unentitled_rows = True  # a row of an engagement without it answers 404
    queryset = AdvocacyItem.objects.all()
    serializer_class = AdvocacyItemSerializer
    filterset_class = AdvocacyItemFilter
    pagination_class = AdvocacyItemPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[AdvocacyItem]:
        return AdvocacyItem.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        for name in services.ADVOCACY_STAFF_FIELDS:
            if name in data:
                raise serializers.ValidationError(
                    {name: [_("Set it with PATCH once the item exists.")]}
                )
        item = services.advocacy_item_create(acting_user=actor(request), **data)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        serializer = self.get_serializer(item, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        changes.pop("engagement", None)
        item = services.advocacy_item_update(acting_user=actor(request), item=item, **changes)
        return Response(self.get_serializer(item).data)


@extend_schema(tags=["upgrade plans"])
class UpgradePlanViewSet(EntitledViewSetMixin, PortalCreateReadUpdateViewSet):
    """Upgrade plans of the engagements the actor may see (plans with upgrade_planning), with
    their milestones. Staff serving the engagement create and change them; customers read."""

    function_code = FunctionCode.UPGRADE_PLANNING
    hide_unentitled_rows = True  # a row of an engagement without it answers 404
    queryset = UpgradePlan.objects.all()
    serializer_class = UpgradePlanSerializer
    filterset_class = UpgradePlanFilter
    pagination_class = UpgradePlanPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[UpgradePlan]:
        return UpgradePlan.objects.prefetch_related(
            Prefetch("milestones", queryset=UpgradeMilestone.objects.all())
        )

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = services.upgrade_plan_create(acting_user=actor(request), **serializer.validated_data)
        return Response(self.get_serializer(plan).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        plan = self.get_object()
        serializer = self.get_serializer(plan, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        changes.pop("engagement", None)
        services.upgrade_plan_update(acting_user=actor(request), plan=plan, **changes)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        request=UpgradeMilestoneSerializer,
        responses={201: UpgradeMilestoneSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=UpgradeMilestoneSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def milestones(self, request: Request, pk: str | None = None) -> Response:
        """Staff: add a milestone to the plan (`title`, `due_date`, `owner`, `owner_name`)."""
        plan = self.get_object()
        context = {**self.get_serializer_context(), "engagement": plan.engagement}
        serializer = UpgradeMilestoneSerializer(data=request.data, context=context)
        serializer.is_valid(raise_exception=True)
        milestone = services.upgrade_milestone_add(
            acting_user=actor(request), plan=plan, **serializer.validated_data
        )
        return Response(
            UpgradeMilestoneSerializer(milestone, context=context).data,
            status=status.HTTP_201_CREATED,
        )
