"""Engagements, the contracts between the vendor and a customer organization: models."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.catalog.models import Plan
from portal.accounts.models import validate_time_zone
from portal.tenancy.scoping import TenantOwned

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
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

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
            models.Index(fields=["updated_at", "id"], name="engagement_updated"),
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
