"""The service catalog (plans, functions, entitlements, cadences) and engagements (contracts)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import validate_time_zone
from portal.tenancy.scoping import TenantOwned

# --- The catalog: provider-wide configuration, not tenant-owned -----------------------------


class Method(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video conference")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    SELF_PACED = "self_paced", _("Online self-paced training")


class Frequency(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    AS_NEEDED = "as_needed", _("As needed")


def validate_methods(value: object) -> None:
    if (
        not isinstance(value, list)
        or not value
        or any(method not in Method.values for method in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(_("Choose one or more delivery methods."))


class ServiceFunction(models.Model):
    """A service function of SPEC §2. The code is a fixed identifier; name and text are editable."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("service function")
        verbose_name_plural = _("service functions")

    def __str__(self) -> str:
        return self.name


class Plan(models.Model):
    """A tier: TSAM, SaaS Standard, SaaS Premium, or one an admin adds."""

    class Deployment(models.TextChoices):
        ON_PREM = "on_prem", _("On-premises licence")
        SAAS = "saas", _("SaaS")

    class Pricing(models.TextChoices):
        INCLUDED = "included", _("Included")
        ADD_ON = "add_on", _("Add-on purchase")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    deployment = models.CharField(_("deployment"), max_length=10, choices=Deployment.choices)
    pricing = models.CharField(_("pricing"), max_length=10, choices=Pricing.choices)
    response_target_business_days = models.DecimalField(
        _("response target (business days)"),
        max_digits=4,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0.25), MaxValueValidator(30)],
    )
    max_contacts = models.PositiveSmallIntegerField(
        _("maximum named contacts"), default=3, validators=[MinValueValidator(1)]
    )
    weekly_hours_cap = models.DecimalField(
        _("weekly hours cap"),
        max_digits=5,
        decimal_places=2,
        default=10,
        validators=[MinValueValidator(0)],
    )
    max_open_cases_per_manager = models.PositiveSmallIntegerField(
        _("maximum open cases per manager"), default=30, validators=[MinValueValidator(1)]
    )
    weekly_call = models.BooleanField(_("weekly call"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    functions: models.ManyToManyField[ServiceFunction, Entitlement] = models.ManyToManyField(
        ServiceFunction, through="Entitlement", related_name="plans", verbose_name=_("functions")
    )
    _function_codes: frozenset[str]  # cached by engagements.entitlements.plan_function_codes

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name


class Entitlement(models.Model):
    """One ✓ of the matrix: the plan includes the function."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="entitlements")
    function = models.ForeignKey(ServiceFunction, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "function"], name="entitlement_unique")
        ]
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.function.code}"


class Cadence(models.Model):
    """How and how often a plan delivers a deliverable (SPEC §3, Table 2)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="cadences")
    deliverable = models.ForeignKey(
        ServiceFunction, on_delete=models.CASCADE, related_name="+", verbose_name=_("deliverable")
    )
    methods = models.JSONField(_("methods"), default=list, validators=[validate_methods])
    frequency = models.CharField(_("frequency"), max_length=12, choices=Frequency.choices)

    class Meta:
        ordering = ["plan_id", "deliverable__position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "deliverable"], name="cadence_unique")
        ]
        verbose_name = _("cadence")
        verbose_name_plural = _("cadences")

    def __str__(self) -> str:
        return f"{self.plan.code}: {self.deliverable.code} {self.frequency}"


# --- Engagements: the contracts, tenant-owned ------------------------------------------------

WEEKDAYS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]
DEFAULT_BUSINESS_HOURS = [["09:00", "17:00"]] * 5 + [None, None]


def default_business_hours() -> list:
    return [list(day) if day else None for day in DEFAULT_BUSINESS_HOURS]


def parse_business_hours(value: object) -> tuple[tuple[time, time] | None, ...]:
    """[["09:00", "17:00"] | null] × 7 (Monday first) → times; ValueError when malformed."""
    if not isinstance(value, list) or len(value) != 7:
        raise ValueError("seven days, Monday first")
    days: list[tuple[time, time] | None] = []
    for day in value:
        if day is None:
            days.append(None)
            continue
        if not isinstance(day, list | tuple) or len(day) != 2:
            raise ValueError("each day is [opens, closes] or null")
        opens, closes = (time.fromisoformat(str(part)) for part in day)
        if opens >= closes:
            raise ValueError("a day must open before it closes")
        days.append((opens, closes))
    if not any(days):
        raise ValueError("at least one day must be open")
    return tuple(days)


def validate_business_hours(value: object) -> None:
    try:
        parse_business_hours(value)
    except (ValueError, TypeError) as exc:
        raise ValidationError(
            _("Business hours are not valid: %(why)s."), params={"why": exc}
        ) from exc


class Engagement(TenantOwned):
    """A contract: an organization's plan for a term, with its manager, deputy and calendar."""

    tenant_path = "organization"
    tenant_engagement_path = "pk"

    class Status(models.TextChoices):
        UPCOMING = "upcoming", _("Upcoming")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")

    class Language(models.TextChoices):
        EN = "en", _("English")
        KO = "ko", _("Korean")

    organization = models.ForeignKey(
        "tenancy.Organization",
        on_delete=models.PROTECT,
        related_name="engagements",
        verbose_name=_("organization"),
    )
    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="engagements", verbose_name=_("plan")
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="managed_engagements",
        verbose_name=_("service manager"),
    )
    deputy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deputized_engagements",
        verbose_name=_("deputy"),
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    business_hours = models.JSONField(
        _("business hours"), default=default_business_hours, validators=[validate_business_hours]
    )
    holiday_country = models.CharField(_("holiday calendar"), max_length=8, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.EN
    )
    review_slot = models.TimeField(
        _("default meeting time"),
        default=time(10, 0),
        help_text=_("Local time at which scheduled calls and reviews are placed."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["organization__name", "start_date", "id"]
        verbose_name = _("engagement")
        verbose_name_plural = _("engagements")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="engagement_dates_ordered"
            ),
            models.CheckConstraint(
                condition=~Q(manager=models.F("deputy")), name="engagement_deputy_not_manager"
            ),
        ]
        indexes = [
            models.Index(fields=["manager"], name="engagement_manager"),
            models.Index(fields=["deputy"], name="engagement_deputy"),
            models.Index(fields=["start_date", "end_date"], name="engagement_term"),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.organization} · {self.plan}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def local_today(self, at: datetime | None = None) -> date:
        return (at or timezone.now()).astimezone(self.zone).date()

    def status_on(self, day: date) -> str:
        if day < self.start_date:
            return self.Status.UPCOMING
        if day > self.end_date:
            return self.Status.EXPIRED
        return self.Status.ACTIVE

    @property
    def status(self) -> str:
        return self.status_on(self.local_today())

    def get_status_display(self) -> str:
        return str(self.Status(self.status).label)


class EngagementHoliday(TenantOwned):
    """A date an admin adds to the engagement's holiday calendar."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="extra_holidays"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["engagement", "date"], name="engagement_holiday_unique")
        ]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Contact(TenantOwned):
    """A named point of contact of an engagement. Removal ends it; the row stays as history."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="contacts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contact_roles",
        verbose_name=_("user"),
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["engagement_id", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "user"],
                condition=Q(removed_at__isnull=True),
                name="contact_active_unique",
            )
        ]
        indexes = [models.Index(fields=["engagement", "removed_at"], name="contact_active")]
        verbose_name = _("named contact")
        verbose_name_plural = _("named contacts")

    def __str__(self) -> str:
        return f"{self.user} @ {self.engagement}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None


class Absence(models.Model):
    """A manager's time away: the deputy covers while it lasts. Provider-side, not tenant-owned."""

    class Kind(models.TextChoices):
        VACATION = "vacation", _("Vacation")
        SICK = "sick", _("Sick leave")
        TRAINING = "training", _("Internal training")

    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("manager"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["manager", "starts_at", "ends_at"], name="absence_span")]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")

    def __str__(self) -> str:
        return f"{self.manager}: {self.get_kind_display()} {self.starts_at:%Y-%m-%d}"


class AfterHoursRequest(TenantOwned):
    """A PoC's request for coverage outside business hours.

    Approved windows count as business time for the engagement.
    """

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="after_hours_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="after_hours_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["engagement", "status", "starts_at"], name="after_hours_window")
        ]
        verbose_name = _("after-hours support request")
        verbose_name_plural = _("after-hours support requests")

    def __str__(self) -> str:
        return f"{self.engagement}: {self.starts_at:%Y-%m-%d %H:%M}"


class TimeEntry(TenantOwned):
    """Minutes a manager spent on an engagement on one local date."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Activity(models.TextChoices):
        CALL = "call", _("Call or meeting")
        REVIEW = "review", _("Service review")
        CASE = "case", _("Case work")
        REPORT = "report", _("Reporting")
        PLANNING = "planning", _("Planning")
        ADVOCACY = "advocacy", _("Advocacy and coordination")
        OTHER = "other", _("Other")

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="time_entries"
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="time_entries",
        verbose_name=_("manager"),
    )
    date = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(
        _("minutes"), validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    activity = models.CharField(_("activity"), max_length=12, choices=Activity.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["engagement", "date"], name="time_entry_week")]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=1440), name="time_entry_minutes_range"
            )
        ]
        verbose_name = _("time entry")
        verbose_name_plural = _("time entries")

    def __str__(self) -> str:
        return f"{self.engagement} {self.date} {self.minutes} min"


class OverageFlag(TenantOwned):
    """ "Additional contract recommended": raised when the trailing 4 full weeks average above
    the plan's weekly cap, cleared when the average falls back. At most one open per engagement."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="overage_flags"
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)
    average_minutes = models.PositiveIntegerField(_("average minutes a week"))
    cap_minutes = models.PositiveIntegerField(_("cap minutes a week"))
    weekly_minutes = models.JSONField(_("weekly minutes"), default=list)
    last_average_minutes = models.PositiveIntegerField(_("latest average"), null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement"], condition=Q(cleared_at__isnull=True), name="overage_one_open"
            )
        ]
        verbose_name = _("overage flag")
        verbose_name_plural = _("overage flags")

    def __str__(self) -> str:
        return f"{self.engagement}: {self.average_minutes} min/week"


# --- Customer intelligence (all plans) ---------------------------------------------------------


class CustomerProfile(TenantOwned):
    """What the provider knows of the customer's situation: roadmap, use cases, priorities and
    key dates. One per engagement; every change is in the audit trail (who, when, before, after)."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    TEXT_FIELDS = ("roadmap", "use_cases", "priorities", "key_dates")

    engagement = models.OneToOneField(
        Engagement,
        on_delete=models.PROTECT,
        related_name="customer_profile",
        verbose_name=_("engagement"),
    )
    roadmap = models.TextField(_("roadmap"), blank=True)
    use_cases = models.TextField(_("use cases"), blank=True)
    priorities = models.TextField(_("priorities"), blank=True)
    key_dates = models.TextField(_("key dates"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["engagement_id"]
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")

    def __str__(self) -> str:
        return str(_("Customer profile of %(engagement)s") % {"engagement": self.engagement})


# --- Customer advocacy and vendor spokesperson (TSAM and Premium) ------------------------------


class AdvocacyItem(TenantOwned):
    """Something the service manager carries into the vendor's organization for the customer:
    an enhancement request, a concern, or an escalation of interest, and what came of it."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Kind(models.TextChoices):
        ENHANCEMENT_REQUEST = "enhancement_request", _("Enhancement request")
        CONCERN = "concern", _("Concern")
        ESCALATION_OF_INTEREST = "escalation_of_interest", _("Escalation of interest")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RAISED_INTERNALLY = "raised_internally", _("Raised internally")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        DELIVERED = "delivered", _("Delivered")

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.PROTECT,
        related_name="advocacy_items",
        verbose_name=_("engagement"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("raised by"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.TextField(_("outcome"), blank=True)
    internal_reference = models.CharField(_("internal reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("advocacy item")
        verbose_name_plural = _("advocacy items")
        indexes = [
            models.Index(fields=["engagement", "status"], name="advocacy_engagement"),
        ]

    def __str__(self) -> str:
        return self.title


# --- Upgrade planning (Standard and Premium) ---------------------------------------------------


class UpgradePlan(TenantOwned):
    """The strategy and schedule of one upgrade, from the version in use to the target."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AGREED = "agreed", _("Agreed")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.PROTECT,
        related_name="upgrade_plans",
        verbose_name=_("engagement"),
    )
    current_version = models.CharField(_("current version"), max_length=100)
    target_version = models.CharField(_("target version"), max_length=100)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("upgrade plan")
        verbose_name_plural = _("upgrade plans")

    def __str__(self) -> str:
        return f"{self.current_version} → {self.target_version}"


class UpgradeMilestone(TenantOwned):
    """A step of an upgrade plan, owned by a user of the portal or someone named."""

    tenant_path = "plan__engagement__organization"
    tenant_engagement_path = "plan__engagement"

    plan = models.ForeignKey(
        UpgradePlan,
        on_delete=models.CASCADE,
        related_name="milestones",
        verbose_name=_("upgrade plan"),
    )
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    owner_name = models.CharField(_("owner name"), max_length=200, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = [models.F("due_date").asc(nulls_last=True), "id"]
        verbose_name = _("upgrade milestone")
        verbose_name_plural = _("upgrade milestones")

    def __str__(self) -> str:
        return self.title
