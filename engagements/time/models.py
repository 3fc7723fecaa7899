"""Time entries and the weekly hours budget: models."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from engagements.contracts.models import Engagement
from portal.tenancy.scoping import TenantOwned


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
        Engagement,
        on_delete=models.CASCADE,
        related_name="time_entries",
        # `time_entry_week` (engagement, date) serves every lookup by engagement; a plain index
        # beside it drew the planner to read every entry of an engagement and filter it by
        # date (issue 17).
        db_index=False,
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="time_entries",
        verbose_name=_("manager"),
    )
    date = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(
        # Not a meeting's minutes (회의록): the time spent, in minutes.
        pgettext_lazy("time spent", "minutes"),
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
    )
    activity = models.CharField(_("activity"), max_length=12, choices=Activity.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [
            models.Index(fields=["engagement", "date"], name="time_entry_week"),
            models.Index(fields=["updated_at", "id"], name="time_entry_updated"),
        ]
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
    the plan's weekly cap and at least 3 of them were over it, cleared when that stops holding.
    At most one open per engagement. The provider's signal: customers never see it."""

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
