"""Sessions of the cadence (calls, reviews): scheduling, completion, action items: models."""

from __future__ import annotations

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
        # `occurrence_calendar` (engagement, scheduled_start) serves every lookup by engagement;
        # a plain index beside it drew the planner to read an engagement's whole history and
        # filter it by date (issue 17).
        db_index=False,
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
    # Who runs a requested session: the manager, or the deputy covering the manager's absence.
    # Empty for the scheduler's sessions (the engagement's manager).
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("host"),
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

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
            models.Index(fields=["updated_at", "id"], name="occurrence_updated"),
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
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="action_item_updated")]
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
