"""Engagement health and overdue action items: the API (provider staff only)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.contracts.models import Engagement
from portal.api.pagination import KeysetCursorPagination
from portal.api.views import PortalAPIView, PortalViewSetMixin
from portal.errors import NotAllowed
from portal.http import actor
from reviews.health.scoring import score_health
from reviews.health.selectors import (
    ORDERINGS,
    health_engagements,
    health_inputs,
    overdue_action_items,
)
from reviews.health.serializers import (
    EngagementHealthSerializer,
    OverdueActionItemSerializer,
    health_data,
)
from reviews.scheduling.models import ActionItem

INTERNAL = _("Engagement health is the provider's internal view.")
STAFF_ONLY = OpenApiResponse(description="permission_denied: customers do not see health")
NOT_FOUND = OpenApiResponse(description="not_found")
INVALID = OpenApiResponse(description="validation_error")


def _require_staff(request: Request) -> None:
    if not actor(request).is_provider_staff:
        raise NotAllowed(INTERNAL)


class EngagementHealthView(PortalAPIView):
    @extend_schema(
        tags=["engagements"],
        responses={200: EngagementHealthSerializer, 403: STAFF_ONLY, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        """The engagement's health score, level and each factor's contribution. Provider staff
        who serve it (admins: any); customers get 403 for their own engagements."""
        engagement = get_object_or_404(Engagement.objects.select_related("plan"), pk=pk)
        _require_staff(request)
        inputs = health_inputs([engagement], timezone.now())[engagement.pk]
        return Response(
            EngagementHealthSerializer(health_data(engagement, score_health(inputs), inputs)).data
        )


@extend_schema(
    tags=["engagements"],
    responses={200: EngagementHealthSerializer(many=True), 403: STAFF_ONLY},
)
class EngagementHealthViewSet(PortalViewSetMixin, viewsets.GenericViewSet):
    """The health of every current engagement the actor serves (admins: all), worst first."""

    queryset = Engagement.objects.all()
    serializer_class = EngagementHealthSerializer
    pagination_class = None
    filter_backends: list = []

    def list(self, request: Request) -> Response:
        _require_staff(request)
        engagements = health_engagements(actor(request))
        inputs = health_inputs(engagements, timezone.now())
        rows = [
            health_data(engagement, score_health(inputs[engagement.pk]), inputs[engagement.pk])
            for engagement in engagements
        ]
        rows.sort(key=lambda row: (row["score"], row["engagement"]))
        return Response(EngagementHealthSerializer(rows, many=True).data)


class OverduePagination(KeysetCursorPagination):
    ordering = ORDERINGS["due_date"]

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        return ORDERINGS[_ordering(request)]

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            parameter
            for parameter in super().get_schema_operation_parameters(view)
            if parameter["name"] != "ordering"
        ]


def _ordering(request: Request) -> str:
    raw = request.query_params.get("ordering", "due_date")
    if raw not in ORDERINGS:
        raise ValidationError({"ordering": [_("Choose due_date or -due_date.")]})
    return raw


@extend_schema(
    tags=["reviews"],
    parameters=[
        OpenApiParameter(
            "ordering",
            str,
            enum=list(ORDERINGS),
            description="`due_date` (oldest due first, the default) or `-due_date`.",
        )
    ],
    responses={200: OverdueActionItemSerializer(many=True), 400: INVALID, 403: STAFF_ONLY},
)
class OverdueActionItemViewSet(PortalViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Open action items past their due date (in the engagement's zone) across the engagements
    the actor serves (admins: all). Provider staff only."""

    queryset = ActionItem.objects.all()
    serializer_class = OverdueActionItemSerializer
    pagination_class = OverduePagination
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[ActionItem]:
        _require_staff(self.request)
        return overdue_action_items(actor(self.request), timezone.now(), _ordering(self.request))
