"""The weekly cadence: scheduled calls and deliverables, their minutes and action items,
frozen review reports, and per-user calendar feeds."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.entitlements import FunctionCode
from portal.tenancy.scoping import TenantOwned

WEEKLY_CALL = "weekly_call"


class Occurrence(TenantOwned):
    """One scheduled (or requested) delivery: a weekly call, a service review, a briefing, …"""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"
    # Set on listed instances by the review pages (reviews/views.py).
    label: str
    method_label: str
    state: str
    state_label: str

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        COMPLETED = "completed", _("Completed")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        related_name="occurrences",
        verbose_name=_("engagement"),
    )
    # A service function code from the plan's cadences, or "weekly_call".
    deliverable = models.CharField(_("deliverable"), max_length=60)
    # "weekly:2026-06-15", "monthly:2026-07-01", "quarterly:…"; "as_needed:<id>" for requests.
    period = models.CharField(_("period"), max_length=60)
    scheduled_start = models.DateTimeField(_("starts"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(8 * 60)],
    )
    method = models.CharField(_("method"), max_length=12)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("attendees")
    )
    other_attendees = models.CharField(_("other attendees"), max_length=300, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    request_note = models.TextField(_("request"), blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["scheduled_start", "id"]
        verbose_name = _("occurrence")
        verbose_name_plural = _("occurrences")
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "deliverable", "period"], name="occurrence_once_per_period"
            ),
        ]
        indexes = [
            models.Index(fields=["engagement", "scheduled_start"], name="occurrence_calendar"),
            models.Index(
                fields=["scheduled_start"],
                name="occurrence_scheduled",
                condition=Q(status="scheduled"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.engagement} {self.deliverable} {self.scheduled_start:%Y-%m-%d}"

    @property
    def ends_at(self) -> datetime:
        return self.scheduled_start + timedelta(minutes=self.duration_minutes)

    @property
    def is_weekly_call(self) -> bool:
        return self.deliverable == WEEKLY_CALL

    @property
    def is_review(self) -> bool:
        return self.deliverable == FunctionCode.SERVICE_REVIEW


class ActionItem(TenantOwned):
    tenant_path = "occurrence__engagement__organization"
    tenant_engagement_path = "occurrence__engagement"
    may_toggle: bool  # set by the review pages (reviews/views.py)

    occurrence = models.ForeignKey(
        Occurrence, on_delete=models.CASCADE, related_name="action_items"
    )
    description = models.CharField(_("action"), max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    owner_name = models.CharField(_("owner (if not a user)"), max_length=120, blank=True)
    due_date = models.DateField(_("due"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ["done", "due_date", "id"]
        verbose_name = _("action item")
        verbose_name_plural = _("action items")

    def __str__(self) -> str:
        return self.description


class OccurrenceReminder(TenantOwned):
    """One row per occurrence once its reminder went out: claimed in the sending transaction."""

    tenant_path = "occurrence__engagement__organization"
    tenant_engagement_path = "occurrence__engagement"

    occurrence = models.OneToOneField(Occurrence, on_delete=models.CASCADE, related_name="reminder")
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"reminder {self.occurrence_id}"


class ReportSnapshot(TenantOwned):
    """The service review report as delivered: frozen when the review is completed."""

    tenant_path = "occurrence__engagement__organization"
    tenant_engagement_path = "occurrence__engagement"

    occurrence = models.OneToOneField(
        Occurrence, on_delete=models.CASCADE, related_name="report_snapshot"
    )
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"report {self.occurrence_id}"


class CalendarFeed(models.Model):
    """A user's secret iCalendar URL. Only a hash is stored; a new one revokes the old."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True),
                name="calendar_feed_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"feed of {self.user_id}"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


# --- Service functions: maintenance windows and release management --------------------------------


class MaintenanceWindow(TenantOwned):
    """A planned maintenance of the customer's systems (the `maintenance` service function).

    Named contacts are notified when it is planned and again a few business days before it;
    `notice_sent_at` is the claim of that second notice, so it goes out exactly once."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"
    conflicts: list[dict[str, str]]  # set by reviews.selectors_functions.annotate_conflicts

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        CONFIRMED = "confirmed", _("Confirmed")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        verbose_name=_("engagement"),
    )
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    systems_affected = models.TextField(_("systems affected"), blank=True)
    expected_impact = models.TextField(_("expected impact"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("planned by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    notice_sent_at = models.DateTimeField(_("notice sent"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        indexes = [
            models.Index(fields=["engagement", "starts_at"], name="maintenance_calendar"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PLANNED, self.Status.CONFIRMED)


class ChangeItem(TenantOwned):
    """A platform, software or architecture change (the `release_management` service function)
    that the engagement's named contacts acknowledge."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Kind(models.TextChoices):
        PLATFORM = "platform", _("Platform")
        SOFTWARE = "software", _("Software")
        ARCHITECTURE = "architecture", _("Architecture")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("engagement"),
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    scheduled_at = models.DateTimeField(_("scheduled"))
    impact = models.TextField(_("impact"), blank=True)
    rollback_plan = models.TextField(_("rollback plan"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [
            models.Index(fields=["engagement", "scheduled_at"], name="change_calendar"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PLANNED, self.Status.SCHEDULED)


class ChangeAcknowledgement(TenantOwned):
    """A named contact has read a change. One per change and person."""

    tenant_path = "change__engagement__organization"
    tenant_engagement_path = "change__engagement"

    change = models.ForeignKey(
        ChangeItem,
        on_delete=models.CASCADE,
        related_name="acknowledgements",
        verbose_name=_("change"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), default=timezone.now)

    class Meta:
        ordering = ["acknowledged_at", "id"]
        verbose_name = _("change acknowledgement")
        verbose_name_plural = _("change acknowledgements")
        constraints = [
            models.UniqueConstraint(fields=["change", "user"], name="change_acknowledged_once"),
        ]

    def __str__(self) -> str:
        return f"{self.change_id} acknowledged by {self.user_id}"


# --- Service functions: vendor news, roadmap announcements, enablement, consulting --------------


class Publication(models.Model):
    """Vendor news or a roadmap/supportability announcement: provider-wide, not tenant-owned.

    `audience` is the service function it belongs to; it is shown to every engagement whose plan
    includes that function, computed when read, so a matrix change shows or hides it at once."""

    class Kind(models.TextChoices):
        NEWS = "news", _("Vendor news")
        ROADMAP = "roadmap", _("Roadmap and supportability")

    AUDIENCE = {
        Kind.NEWS: FunctionCode.VENDOR_SPOKESPERSON,
        Kind.ROADMAP: FunctionCode.PRODUCT_ROADMAP,
    }

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    major = models.BooleanField(_("major announcement"), default=False)
    audience = models.CharField(_("service function"), max_length=60, editable=False)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        indexes = [
            models.Index(fields=["audience", "-published_at"], name="publication_audience"),
        ]

    def __str__(self) -> str:
        return self.title


class PublicationReceipt(models.Model):
    """A customer user has opened a publication. One per publication and person."""

    publication = models.ForeignKey(
        Publication,
        on_delete=models.CASCADE,
        related_name="receipts",
        verbose_name=_("publication"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("read by"),
    )
    read_at = models.DateTimeField(_("read"), default=timezone.now)

    class Meta:
        ordering = ["read_at", "id"]
        verbose_name = _("read receipt")
        verbose_name_plural = _("read receipts")
        constraints = [
            models.UniqueConstraint(fields=["publication", "user"], name="publication_read_once"),
        ]

    def __str__(self) -> str:
        return f"{self.publication_id} read by {self.user_id}"


class TrainingResource(models.Model):
    """An entry of the self-paced enablement catalog (provider-wide, kept by admins)."""

    title = models.CharField(_("title"), max_length=200)
    url = models.URLField(_("link"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("training resource")
        verbose_name_plural = _("training resources")

    def __str__(self) -> str:
        return self.title


class ConsultingRequest(TenantOwned):
    """A named contact asks for environment consulting (Premium); staff turn it into a session."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        DECLINED = "declined", _("Declined")

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        related_name="consulting_requests",
        verbose_name=_("engagement"),
    )
    topic = models.CharField(_("topic"), max_length=200)
    environment_details = models.TextField(_("environment details"), blank=True)
    desired_dates = models.TextField(_("desired dates"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    session = models.ForeignKey(
        Occurrence,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("session"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consulting request")
        verbose_name_plural = _("consulting requests")
        indexes = [
            models.Index(fields=["engagement", "-created_at"], name="consulting_by_engagement"),
        ]

    def __str__(self) -> str:
        return self.topic
