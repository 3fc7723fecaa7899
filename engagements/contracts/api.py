"""Engagements, the contracts between the vendor and a customer organization: API viewsets."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.fields import BooleanField
from rest_framework.request import Request
from rest_framework.response import Response

from engagements.catalog.api import DEFAULT_PERMISSIONS
from engagements.contacts import services as contacts_services
from engagements.contacts.models import Contact
from engagements.contacts.serializers import ContactSerializer
from engagements.contracts import services as contracts_services
from engagements.contracts.filters import EngagementFilter
from engagements.contracts.models import Engagement
from engagements.contracts.serializers import EngagementSerializer
from engagements.selectors import serves
from engagements.time.models import OverageFlag
from engagements.time.selectors import hours_summary, week_start
from engagements.time.serializers import HoursSerializer
from portal.api import sync
from portal.api.permissions import AdminWritesOthersRead
from portal.api.views import (
    PortalCreateReadUpdateViewSet,
)
from portal.http import actor


def _flag(request: Request, name: str) -> bool:
    """A boolean query parameter: absent is false, anything but a boolean is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    try:
        return BooleanField().run_validation(raw.strip())
    except ValidationError as exc:
        raise ValidationError({name: exc.detail}) from exc


CONTACT_ID = OpenApiParameter("contact_id", OpenApiTypes.INT, OpenApiParameter.PATH)


@extend_schema(tags=["engagements"])
class EngagementViewSet(PortalCreateReadUpdateViewSet):
    """Engagements the actor may see; provider admins create and change them.

    Named contacts: `contacts/` (list, and add for admins) and `contacts/{contact_id}/` (read,
    and remove for admins: the row stays with `removed_at`). Hours: `hours/`.
    """

    queryset = Engagement.objects.all()
    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter
    permission_classes = [*DEFAULT_PERMISSIONS, AdminWritesOthersRead]

    def get_queryset(self) -> QuerySet[Engagement]:
        return Engagement.objects.select_related("plan")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["engagement"] = getattr(self, "_engagement", None)
        return context

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        engagement = contracts_services.engagement_create(
            acting_user=actor(request),
            organization=fields.pop("organization"),
            plan=fields.pop("plan"),
            manager=fields.pop("manager"),
            **fields,
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=engagement.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        engagement = self.get_object()
        serializer = self.get_serializer(
            engagement, data=request.data, partial=kwargs.get("partial", False)
        )
        serializer.is_valid(raise_exception=True)
        # The organization is write-once: the serializer refused a change, so drop the echo.
        changes = {k: v for k, v in serializer.validated_data.items() if k != "organization"}
        contracts_services.engagement_update(
            acting_user=actor(request), engagement=engagement, **changes
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=engagement.pk)).data)

    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter(
                "include_removed",
                OpenApiTypes.BOOL,
                description="Also list removed contacts (with `removed_at`).",
            ),
            OpenApiParameter(
                sync.UPDATED_AFTER,
                OpenApiTypes.DATETIME,
                description="Only contacts changed (added or removed) at or after this instant "
                "(ISO 8601 with an offset, inclusive).",
            ),
        ],
        request=None,
        responses=ContactSerializer(many=True),
    )
    @extend_schema(methods=["POST"], request=ContactSerializer, responses={201: ContactSerializer})
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="contacts",
        url_name="contacts",
        serializer_class=ContactSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def contacts(self, request: Request, pk: str | None = None) -> Response:
        """The engagement's named contacts; admins name one with `{"user": id}`."""
        self._engagement = engagement = self.get_object()
        if request.method == "POST":
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            contact = contacts_services.contact_add(
                acting_user=actor(request),
                engagement=engagement,
                user=serializer.validated_data["user"],
            )
            return Response(self.get_serializer(contact).data, status=status.HTTP_201_CREATED)
        contacts = Contact.objects.filter(engagement=engagement)
        if not _flag(request, "include_removed"):
            contacts = contacts.filter(removed_at__isnull=True)
        if (since := request.query_params.get(sync.UPDATED_AFTER)) is not None:
            contacts = contacts.filter(updated_at__gte=sync.parse_updated_after(since))
        return Response(self.get_serializer(contacts, many=True).data)

    @extend_schema(
        methods=["GET"], parameters=[CONTACT_ID], request=None, responses=ContactSerializer
    )
    @extend_schema(methods=["DELETE"], parameters=[CONTACT_ID], request=None, responses={204: None})
    @action(
        detail=True,
        methods=["get", "delete"],
        url_path=r"contacts/(?P<contact_id>[0-9]+)",
        url_name="contact-detail",
        serializer_class=ContactSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def contact_detail(
        self, request: Request, pk: str | None = None, contact_id: str | None = None
    ) -> Response:
        """One named contact (also a removed one); admins remove it, keeping the row."""
        self._engagement = engagement = self.get_object()
        contact = get_object_or_404(Contact.objects.filter(engagement=engagement), pk=contact_id)
        if request.method == "DELETE":
            sync.check_if_match(request, contact)
            contacts_services.contact_remove(acting_user=actor(request), contact=contact)
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(contact).data)

    @extend_schema(request=None, responses=HoursSerializer)
    @action(
        detail=True,
        methods=["get"],
        serializer_class=HoursSerializer,
        filter_backends=[],
        pagination_class=None,
    )
    def hours(self, request: Request, pk: str | None = None) -> Response:
        """Manager minutes this week and in the trailing 4 full weeks; for the engagement's
        provider staff also against the plan's cap, with the open overage flag."""
        engagement = self.get_object()
        today = engagement.local_today()
        summary = hours_summary(engagement, today=today)
        flag = None
        provider = serves(actor(request), engagement)
        if provider:
            flag = OverageFlag.objects.filter(
                engagement=engagement, cleared_at__isnull=True
            ).first()
        data = {
            "week_start": week_start(today),
            "this_week_minutes": summary.this_week_minutes,
            "trailing_weeks": [
                {"week_start": monday, "minutes": minutes}
                for monday, minutes in summary.trailing_weeks
            ],
            "average_minutes": summary.trailing_average_minutes,
            # the budget and its signal are the provider's; customers see the hours delivered
            "cap_minutes": summary.cap_minutes if provider else None,
            "over_cap": summary.over_cap if provider else None,
            "overage_flag": flag,
        }
        return Response(HoursSerializer(data).data)
