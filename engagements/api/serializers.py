"""Serializers of the engagements API: the catalog, engagements and their day-to-day records.

Writable relations are scoped to the actor: engagements and organizations through
`ScopedRelatedField`, people through fields whose choices are built per request.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from engagements.models import (
    Absence,
    AfterHoursRequest,
    Cadence,
    Contact,
    Engagement,
    Frequency,
    Method,
    OverageFlag,
    Plan,
    ServiceFunction,
    TimeEntry,
)
from portal.accounts.models import User
from portal.api.serializers import (
    MULTILINE,
    ScopedRelatedField,
    StrictModelSerializer,
    StrictSerializer,
)
from portal.tenancy.models import Organization

# --- Fields ----------------------------------------------------------------------------------


class ProviderStaffField(serializers.PrimaryKeyRelatedField):
    """An active provider admin or service manager, by id; anyone else fails as a missing id."""

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.filter(kind__in=[User.Kind.ADMIN, User.Kind.MANAGER], is_active=True)


class ContactCandidateField(serializers.PrimaryKeyRelatedField):
    """An active person of the engagement's organization (the serializer's `engagement`
    context); another organization's user fails exactly like an id that does not exist."""

    def get_queryset(self) -> QuerySet[User]:
        engagement = self.context.get("engagement")
        if engagement is None:
            return User.objects.none()
        return User.objects.filter(
            is_active=True,
            memberships__organization_id=engagement.organization_id,
            memberships__is_active=True,
        )


def _write_once(serializer: serializers.ModelSerializer, attrs: dict, *names: str) -> None:
    instance = serializer.instance
    if instance is None:
        return
    for name in names:
        if name in attrs and attrs[name] != getattr(instance, name):
            raise serializers.ValidationError({name: [_("This field cannot be changed.")]})


# --- The catalog -----------------------------------------------------------------------------


class ServiceFunctionSerializer(StrictModelSerializer):
    """A service function; the code is fixed once created, name and description are editable."""

    class Meta:
        model = ServiceFunction
        fields = ["id", "code", "name", "description"]
        read_only_fields = ["id"]

    def validate(self, attrs: dict) -> dict:
        _write_once(self, attrs, "code")
        return attrs


class CadenceSerializer(serializers.ModelSerializer):
    deliverable: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    methods = serializers.ListField(child=serializers.ChoiceField(choices=Method.choices))
    frequency = serializers.ChoiceField(choices=Frequency.choices)

    class Meta:
        model = Cadence
        fields = ["deliverable", "methods", "frequency"]
        read_only_fields = fields


class PlanSerializer(StrictModelSerializer):
    """A plan (tier) with its included function codes and delivery cadences.

    The matrix and the cadences are read here; they are edited as a whole elsewhere.
    """

    response_target_business_days = serializers.DecimalField(
        max_digits=4,
        decimal_places=2,
        min_value=Decimal("0.25"),
        max_value=Decimal(30),
        coerce_to_string=False,
        required=False,
    )
    weekly_hours_cap = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), coerce_to_string=False, required=False
    )
    entitlements = serializers.SerializerMethodField()
    cadences = CadenceSerializer(many=True, read_only=True)

    class Meta:
        model = Plan
        fields = [
            "id",
            "code",
            "name",
            "deployment",
            "pricing",
            "response_target_business_days",
            "max_contacts",
            "weekly_hours_cap",
            "max_open_cases_per_manager",
            "weekly_call",
            "entitlements",
            "cadences",
        ]
        read_only_fields = ["id"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_entitlements(self, plan: Plan) -> list[str]:
        # Prefetched in function order by the view.
        return [entitlement.function.code for entitlement in plan.entitlements.all()]

    def validate(self, attrs: dict) -> dict:
        _write_once(self, attrs, "code")
        return attrs


# --- Engagements -----------------------------------------------------------------------------


class EngagementSerializer(StrictModelSerializer):
    """An engagement (contract). `status` follows from its term and today in its zone."""

    organization = ScopedRelatedField(model=Organization)
    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.all())
    manager = ProviderStaffField()
    deputy = ProviderStaffField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Engagement.Status.choices, read_only=True)
    response_target_business_days = serializers.DecimalField(
        source="plan.response_target_business_days",
        max_digits=4,
        decimal_places=2,
        coerce_to_string=False,
        read_only=True,
    )

    class Meta:
        model = Engagement
        fields = [
            "id",
            "organization",
            "plan",
            "name",
            "manager",
            "deputy",
            "timezone",
            "holiday_country",
            "language",
            "start_date",
            "end_date",
            "business_hours",
            "status",
            "response_target_business_days",
        ]
        read_only_fields = ["id"]

    def validate(self, attrs: dict) -> dict:
        instance = self.instance
        if instance is not None and attrs.get("organization", instance.organization) != (
            instance.organization
        ):
            raise serializers.ValidationError(
                {"organization": [_("An engagement cannot move to another organization.")]}
            )
        return attrs


class ContactSerializer(StrictModelSerializer):
    """A named contact. Input is only `user`: an active person of the engagement's organization."""

    user = ContactCandidateField()

    class Meta:
        model = Contact
        fields = ["id", "user", "added_at", "added_by", "removed_at"]
        read_only_fields = ["id", "added_at", "added_by", "removed_at"]


class WeekMinutesSerializer(serializers.Serializer):
    week_start = serializers.DateField()
    minutes = serializers.IntegerField()


class OverageFlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = OverageFlag
        fields = [
            "id",
            "raised_at",
            "average_minutes",
            "cap_minutes",
            "weekly_minutes",
            "last_average_minutes",
        ]
        read_only_fields = fields


class HoursSerializer(serializers.Serializer):
    """Manager time on an engagement: this week and the trailing 4 full weeks (Monday first)."""

    week_start = serializers.DateField(help_text=_("Monday of the current week."))
    this_week_minutes = serializers.IntegerField()
    trailing_weeks = WeekMinutesSerializer(many=True)
    average_minutes = serializers.IntegerField(help_text=_("Average of the trailing full weeks."))
    cap_minutes = serializers.IntegerField(help_text=_("The plan's weekly cap."))
    over_cap = serializers.BooleanField()
    overage_flag = OverageFlagSerializer(
        allow_null=True,
        help_text=_("The open 'additional contract recommended' flag; shown to provider staff."),
    )


# --- Absences --------------------------------------------------------------------------------


class AbsenceManagerField(ProviderStaffField):
    """Whose absence: an admin may name any active provider staff, anyone else only themselves.
    Another manager's id fails exactly like a missing one, with the same message (no id in it),
    so the answer tells nothing about which staff ids exist."""

    def _user(self) -> User | None:
        request = self.context.get("request")
        return getattr(request, "user", None)

    def _admin(self) -> bool:
        user = self._user()
        return bool(user is not None and user.is_authenticated and user.is_provider_admin)

    def get_queryset(self) -> QuerySet[User]:
        staff = super().get_queryset()
        if self._admin():
            return staff
        user = self._user()
        return (
            staff.filter(pk=user.pk) if user is not None and user.is_authenticated else staff.none()
        )

    def to_internal_value(self, data: object) -> User:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            if error.get_codes() != ["does_not_exist"]:
                raise
        if self._admin():
            raise serializers.ValidationError(
                _("Choose an active service manager or provider admin."), code="does_not_exist"
            )
        raise serializers.ValidationError(
            _("You can only record your own absences."), code="does_not_exist"
        )


class AbsenceSerializer(StrictModelSerializer):
    """A manager's absence. `manager` defaults to whoever records it."""

    manager = AbsenceManagerField(required=False)

    class Meta:
        model = Absence
        fields = ["id", "manager", "kind", "starts_at", "ends_at", "note"]
        read_only_fields = ["id"]


class CustomerAbsenceSerializer(AbsenceSerializer):
    """What customers see of an absence: when, not why."""

    class Meta(AbsenceSerializer.Meta):
        fields = ["id", "manager", "kind", "starts_at", "ends_at"]
        read_only_fields = fields


# --- After-hours requests --------------------------------------------------------------------


class AfterHoursRequestSerializer(StrictModelSerializer):
    engagement = ScopedRelatedField(model=Engagement)

    class Meta:
        model = AfterHoursRequest
        fields = [
            "id",
            "engagement",
            "requested_by",
            "starts_at",
            "ends_at",
            "reason",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = [
            "id",
            "requested_by",
            "status",
            "decided_by",
            "decided_at",
            "decision_note",
        ]


class AfterHoursApproveSerializer(StrictSerializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", style=MULTILINE
    )


class AfterHoursDeclineSerializer(StrictSerializer):
    note = serializers.CharField(
        max_length=2000, help_text=_("Why the request is declined (required)."), style=MULTILINE
    )


# --- Time entries ----------------------------------------------------------------------------


class TimeEntrySerializer(StrictModelSerializer):
    """Minutes on an engagement. `manager` is whoever logs it; admins may log for a manager."""

    engagement = ScopedRelatedField(model=Engagement)
    manager = ProviderStaffField(required=False)

    class Meta:
        model = TimeEntry
        fields = ["id", "engagement", "manager", "date", "minutes", "activity", "note"]
        read_only_fields = ["id"]
