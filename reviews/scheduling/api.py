"""The reviews API: occurrences (weekly calls, scheduled deliverables, requested sessions), their
commands (`complete`, `cancel`), the service review report, and action items.

Every write goes through `reviews.scheduling.services`, which decides who may do what (403
`permission_denied`, `not_entitled`) and refuses what breaks a rule (400, 409 `conflict`). Each
object is fetched through the actor's scope first, so another tenant's answers 404 before
anything else is looked at.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from engagements import selectors as engagements_selectors
from engagements.entitlements import FunctionCode, require_entitlement
from portal import errors as portal_errors
from portal.api.pagination import PortalCursorPagination
from portal.api.views import PortalReadCreateViewSet, PortalReadUpdateViewSet
from portal.http import actor
from reviews.reports import figures as reports
from reviews.reports.models import ReportSnapshot
from reviews.scheduling import services as scheduling_services
from reviews.scheduling.filters import ActionItemFilter, OccurrenceFilter
from reviews.scheduling.models import ActionItem, Occurrence
from reviews.scheduling.serializers import (
    ActionItemDoneSerializer,
    ActionItemSerializer,
    CancelSerializer,
    CompleteSerializer,
    OccurrenceRequestSerializer,
    OccurrenceSerializer,
    ReportSerializer,
)

ERRORS = {
    400: OpenApiResponse(description="validation_error"),
    403: OpenApiResponse(description="permission_denied or not_entitled"),
    404: OpenApiResponse(description="not_found"),
}


# Open items first, then by due date (undated last, on every database).
ITEM_ORDER = ("done", F("due_date").asc(nulls_last=True), "id")


class OccurrencePagination(PortalCursorPagination):
    ordering = ("scheduled_start", "id")


class ActionItemPagination(PortalCursorPagination):
    ordering = ("id",)


@extend_schema(tags=["reviews"])
class OccurrenceViewSet(PortalReadCreateViewSet):
    """Weekly calls, scheduled deliverables (service reviews, briefings, …) and requested
    "as needed" sessions the actor may see, earliest first.

    `POST` asks for an "as needed" session (named contacts and the engagement's staff).
    The engagement's manager, deputy or an admin `complete`s an occurrence; they, or whoever
    requested it, `cancel` it. A service review's report is `report/`.
    """

    queryset = Occurrence.objects.all()
    serializer_class = OccurrenceSerializer
    filterset_class = OccurrenceFilter
    pagination_class = OccurrencePagination
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Occurrence]:
        return Occurrence.objects.prefetch_related(
            "attendees", Prefetch("action_items", queryset=ActionItem.objects.order_by(*ITEM_ORDER))
        )

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action == "create":
            return OccurrenceRequestSerializer
        return super().get_serializer_class()

    def _input(self, request: Request) -> dict[str, Any]:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _occurrence_response(
        self, occurrence: Occurrence, *, status_code: int = status.HTTP_200_OK
    ) -> Response:
        fresh = self.get_queryset().get(pk=occurrence.pk)
        return Response(
            OccurrenceSerializer(fresh, context=self.get_serializer_context()).data,
            status=status_code,
        )

    @extend_schema(
        request=OccurrenceRequestSerializer,
        responses={
            201: OccurrenceSerializer,
            **ERRORS,
            400: OpenApiResponse(
                description="validation_error; outside_business_hours, not_a_business_day or "
                "holiday (a customer's session outside business time: request after-hours "
                "support first); manager_absent (neither the manager nor the deputy can host)"
            ),
            409: OpenApiResponse(
                description="engagement_not_active (the engagement's term has ended or not begun)"
            ),
        },
    )
    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Ask for an "as needed" session by a method the plan allows for the deliverable.
        A customer's session lies wholly in business time or an approved after-hours window,
        within the engagement's term; `host` is the manager, or the deputy while the manager
        is away."""
        data = self._input(request)
        occurrence = scheduling_services.occurrence_request(
            acting_user=actor(request),
            engagement=data["engagement"],
            deliverable=data["deliverable"],
            method=data["method"],
            preferred_start=data["preferred_start"],
            note=data["note"],
        )
        return self._occurrence_response(occurrence, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=CompleteSerializer,
        responses={
            200: OccurrenceSerializer,
            409: OpenApiResponse(description="conflict or session_not_started"),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"], serializer_class=CompleteSerializer, filter_backends=[])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Record what happened: the method actually used (one the plan allows), minutes,
        attendees and action items. A completed service review's report is frozen."""
        occurrence = self.get_object()
        if not engagements_selectors.serves(actor(request), occurrence.engagement):
            # Refused before the input is looked at: customers never complete occurrences.
            raise portal_errors.NotAllowed(
                _("Only the engagement's manager, deputy or an admin completes it.")
            )
        data = self._input(request)
        scheduling_services.occurrence_complete(
            acting_user=actor(request),
            occurrence=occurrence,
            method=data["method"],
            minutes=data["minutes"],
            attendees=data["attendees"],
            other_attendees=data["other_attendees"],
            action_items=[dict(item) for item in data["action_items"]],
            completed_at=data["completed_at"],
        )
        return self._occurrence_response(occurrence)

    @extend_schema(
        request=CancelSerializer,
        responses={
            200: OccurrenceSerializer,
            409: OpenApiResponse(description="conflict"),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"], serializer_class=CancelSerializer, filter_backends=[])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a scheduled occurrence (the engagement's staff, or whoever requested it)."""
        occurrence = self.get_object()
        data = self._input(request)
        scheduling_services.occurrence_cancel(
            acting_user=actor(request), occurrence=occurrence, reason=data["reason"]
        )
        return self._occurrence_response(occurrence)

    @extend_schema(request=None, responses={200: ReportSerializer, **ERRORS})
    @action(
        detail=True,
        methods=["get"],
        serializer_class=ReportSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def report(self, request: Request, pk: str | None = None) -> Response:
        """The service review's report: as frozen at completion, else built live as of now.
        Other occurrences have no report (404)."""
        occurrence = self.get_object()
        if not occurrence.is_review:
            raise NotFound()
        require_entitlement(occurrence.engagement, FunctionCode.SERVICE_REVIEW)
        snapshot = ReportSnapshot.objects.filter(occurrence=occurrence).first()
        if snapshot is not None:
            report = {"frozen": True, "generated_at": snapshot.created_at, "data": snapshot.data}
        else:
            now = timezone.now()
            report = {
                "frozen": False,
                "generated_at": now,
                "data": reports.build_report(occurrence, as_of=now),
            }
        report["data"] = reports.for_audience(
            report["data"],
            provider=engagements_selectors.serves(actor(request), occurrence.engagement),
        )
        response = Response(ReportSerializer({"occurrence": occurrence.pk, **report}).data)
        # A customer's figures: never kept by a shared cache, nor on disk by the browser.
        patch_cache_control(response, private=True, no_store=True)
        return response


@extend_schema(tags=["reviews"])
class ActionItemViewSet(PortalReadUpdateViewSet):
    """Action items of the occurrences the actor may see. `PATCH {"done": true}` ticks one off
    (the engagement's staff, its named contacts, or the item's owner)."""

    queryset = ActionItem.objects.all()
    serializer_class = ActionItemSerializer
    filterset_class = ActionItemFilter
    pagination_class = ActionItemPagination
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[ActionItem]:
        return ActionItem.objects.select_related("occurrence__engagement")

    @extend_schema(
        request=ActionItemDoneSerializer, responses={200: ActionItemSerializer, **ERRORS}
    )
    def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:
        """Mark the item done or not done."""
        item = self.get_object()
        serializer = ActionItemDoneSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        item = scheduling_services.action_item_set_done(
            acting_user=actor(request), item=item, done=serializer.validated_data["done"]
        )
        return Response(ActionItemSerializer(item, context=self.get_serializer_context()).data)
