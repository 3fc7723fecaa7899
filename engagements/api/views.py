"""The engagements API: the catalog, engagements with their contacts and hours, absences,
after-hours requests and time entries. Every write goes through `engagements.services`."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.fields import BooleanField
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from engagements import services
from engagements.api.serializers import (
    AbsenceSerializer,
    AfterHoursApproveSerializer,
    AfterHoursDeclineSerializer,
    AfterHoursRequestSerializer,
    ContactSerializer,
    CustomerAbsenceSerializer,
    EngagementSerializer,
    HoursSerializer,
    PlanSerializer,
    ServiceFunctionSerializer,
    TimeEntrySerializer,
)
from engagements.filters import (
    AbsenceFilter,
    AfterHoursRequestFilter,
    EngagementFilter,
    PlanFilter,
    ServiceFunctionFilter,
    TimeEntryFilter,
)
from engagements.models import (
    Absence,
    AfterHoursRequest,
    Cadence,
    Contact,
    Engagement,
    Entitlement,
    OverageFlag,
    Plan,
    ServiceFunction,
    TimeEntry,
)
from engagements.selectors import hours_summary, is_active_contact, serves, week_start
from portal.api.pagination import PortalCursorPagination
from portal.api.permissions import AdminWritesOthersRead
from portal.api.views import (
    PortalCreateReadUpdateViewSet,
    PortalReadCreateDeleteViewSet,
    PortalReadCreateViewSet,
)
from portal.http import actor

DEFAULT_PERMISSIONS = PortalCreateReadUpdateViewSet.permission_classes


def cursor_by(*ordering: str) -> type[PortalCursorPagination]:
    """Cursor pagination in the list's natural order (ending in a unique field)."""
    return type("CursorPagination", (PortalCursorPagination,), {"ordering": ordering})


class StaffWritesOthersRead(permissions.BasePermission):
    """Everyone signed in reads what their scope shows; only provider staff write.
    Which staff may write what is checked by the view and the service."""

    message = _("Only provider staff may change this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return bool(request.user.is_authenticated and request.user.is_provider_staff)


def _flag(request: Request, name: str) -> bool:
    """A boolean query parameter: absent is false, anything but a boolean is a 400."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    try:
        return BooleanField().run_validation(raw.strip())
    except ValidationError as exc:
        raise ValidationError({name: exc.detail}) from exc


# --- The catalog -----------------------------------------------------------------------------


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
        )
        return Response(self.get_serializer(function).data)


# --- Engagements -----------------------------------------------------------------------------

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
        engagement = services.engagement_create(
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
        services.engagement_update(acting_user=actor(request), engagement=engagement, **changes)
        return Response(self.get_serializer(self.get_queryset().get(pk=engagement.pk)).data)

    @extend_schema(
        methods=["GET"],
        parameters=[
            OpenApiParameter(
                "include_removed",
                OpenApiTypes.BOOL,
                description="Also list removed contacts (with `removed_at`).",
            )
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
            contact = services.contact_add(
                acting_user=actor(request),
                engagement=engagement,
                user=serializer.validated_data["user"],
            )
            return Response(self.get_serializer(contact).data, status=status.HTTP_201_CREATED)
        contacts = Contact.objects.filter(engagement=engagement)
        if not _flag(request, "include_removed"):
            contacts = contacts.filter(removed_at__isnull=True)
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
            services.contact_remove(acting_user=actor(request), contact=contact)
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
        """Manager minutes this week and in the trailing 4 full weeks, against the plan's cap."""
        engagement = self.get_object()
        today = engagement.local_today()
        summary = hours_summary(engagement, today=today)
        flag = None
        if actor(request).is_provider_staff:
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
            "cap_minutes": summary.cap_minutes,
            "over_cap": summary.over_cap,
            "overage_flag": flag,
        }
        return Response(HoursSerializer(data).data)


# --- Absences --------------------------------------------------------------------------------


@extend_schema(tags=["absences"])
class AbsenceViewSet(PortalReadCreateDeleteViewSet):
    """Managers' absences. Provider staff see all (they cover for each other) and record or
    remove their own (admins anyone's); customers see, without the note, the absences of the
    managers and deputies of their engagements."""

    queryset = Absence.objects.all()
    serializer_class = AbsenceSerializer
    filterset_class = AbsenceFilter
    permission_classes = [*DEFAULT_PERMISSIONS, StaffWritesOthersRead]
    pagination_class = cursor_by("-starts_at", "-id")

    def _is_customer(self) -> bool:
        user = self.request.user
        return bool(user.is_authenticated and user.is_customer)

    def get_queryset(self) -> QuerySet[Absence]:
        if not self._is_customer():
            return Absence.objects.all()
        # Engagement's manager is scoped: these are the engagements the customer may see.
        serving = Q(manager__in=Engagement.objects.values("manager")) | Q(
            manager__in=Engagement.objects.filter(deputy__isnull=False).values("deputy")
        )
        return Absence.objects.filter(serving)

    def get_serializer_class(self) -> type[BaseSerializer]:
        if getattr(self, "swagger_fake_view", False) or not self._is_customer():
            return AbsenceSerializer
        return CustomerAbsenceSerializer

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        manager = data.get("manager") or actor(request)
        if manager != actor(request) and not actor(request).is_provider_admin:
            raise PermissionDenied(_("You can only record your own absences."))
        absence = services.absence_record(
            acting_user=actor(request),
            manager=manager,
            kind=data["kind"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            note=data.get("note", ""),
        )
        return Response(self.get_serializer(absence).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        absence = self.get_object()
        if absence.manager_id != actor(request).pk and not actor(request).is_provider_admin:
            raise PermissionDenied(_("You can only remove your own absences."))
        services.absence_delete(acting_user=actor(request), absence=absence)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- After-hours support requests ------------------------------------------------------------


@extend_schema(tags=["after-hours requests"])
class AfterHoursRequestViewSet(PortalReadCreateViewSet):
    """Requests for weekend and holiday support. Named contacts file them at least 2 business
    days ahead; the engagement's manager, its deputy or an admin approves or declines."""

    queryset = AfterHoursRequest.objects.all()
    serializer_class = AfterHoursRequestSerializer
    filterset_class = AfterHoursRequestFilter
    pagination_class = cursor_by("-starts_at", "-id")

    def get_queryset(self) -> QuerySet[AfterHoursRequest]:
        return AfterHoursRequest.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not is_active_contact(data["engagement"], actor(request)):
            raise PermissionDenied(
                _("Only the engagement's named contacts can request after-hours support.")
            )
        created = services.after_hours_request(
            acting_user=actor(request),
            engagement=data["engagement"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            reason=data["reason"],
        )
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)

    def _decide(self, request: Request, *, approve: bool) -> Response:
        # Fetch first: another tenant's request answers 404 before anything is checked.
        pending = self.get_object()
        engagement = pending.engagement
        user = actor(request)
        if not serves(user, engagement):
            raise PermissionDenied(_("Only the engagement's manager or deputy can decide."))
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = services.after_hours_decide(
            acting_user=user,
            request=pending,
            approve=approve,
            note=serializer.validated_data.get("note", ""),
        )
        return Response(
            AfterHoursRequestSerializer(decided, context=self.get_serializer_context()).data
        )

    @extend_schema(
        request=AfterHoursApproveSerializer,
        responses={
            200: AfterHoursRequestSerializer,
            409: OpenApiResponse(description="conflict: the request was already decided"),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=AfterHoursApproveSerializer,
        filter_backends=[],
    )
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a pending request: its window counts as business time."""
        return self._decide(request, approve=True)

    @extend_schema(
        request=AfterHoursDeclineSerializer,
        responses={
            200: AfterHoursRequestSerializer,
            409: OpenApiResponse(description="conflict: the request was already decided"),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        serializer_class=AfterHoursDeclineSerializer,
        filter_backends=[],
    )
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Decline a pending request, saying why."""
        return self._decide(request, approve=False)


# --- Time entries ----------------------------------------------------------------------------


@extend_schema(tags=["time entries"])
class TimeEntryViewSet(PortalReadCreateDeleteViewSet):
    """Manager time per engagement. Customers read the time on their engagements; managers log
    and remove their own on engagements they serve; admins log for any manager."""

    queryset = TimeEntry.objects.all()
    serializer_class = TimeEntrySerializer
    filterset_class = TimeEntryFilter
    permission_classes = [*DEFAULT_PERMISSIONS, StaffWritesOthersRead]
    pagination_class = cursor_by("-date", "-id")

    def get_queryset(self) -> QuerySet[TimeEntry]:
        return TimeEntry.objects.all()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        engagement = data["engagement"]
        user = actor(request)
        manager = data.get("manager") or user
        if not user.is_provider_admin:
            if manager != user:
                raise PermissionDenied(_("You can only log your own time."))
            if user.pk not in (engagement.manager_id, engagement.deputy_id):
                raise PermissionDenied(
                    _("Only the engagement's manager or deputy can log time on it.")
                )
        entry = services.time_entry_log(
            acting_user=user,
            engagement=engagement,
            day=data["date"],
            minutes=data["minutes"],
            activity=data["activity"],
            note=data.get("note", ""),
            manager=manager,
        )
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        entry = self.get_object()
        if entry.manager_id != actor(request).pk and not actor(request).is_provider_admin:
            raise PermissionDenied(_("You can only remove your own time entries."))
        services.time_entry_delete(acting_user=actor(request), entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)
