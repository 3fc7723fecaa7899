"""Upgrade plans and their milestones (service function `upgrade_planning`): API viewsets."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.entitlements import EntitledViewSetMixin, FunctionCode
from engagements.upgrades import services
from engagements.upgrades.filters import UpgradePlanFilter
from engagements.upgrades.models import UpgradeMilestone, UpgradePlan
from engagements.upgrades.serializers import UpgradeMilestoneSerializer, UpgradePlanSerializer
from portal.api.pagination import KeysetCursorPagination
from portal.api.views import PortalCreateReadUpdateViewSet
from portal.http import actor

ERRORS = {
    400: OpenApiResponse(description="validation_error"),
    403: OpenApiResponse(description="permission_denied or not_entitled"),
    404: OpenApiResponse(description="not_found"),
}


class UpgradePlanPagination(KeysetCursorPagination):
    ordering = ("-created_at", "-id")


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
