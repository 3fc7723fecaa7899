"""Maintenance windows (service function `maintenance_planning`): reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from engagements.business_time import BusinessCalendar
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_plan_ids
from engagements.selectors import engagement_calendar
from portal.accounts.models import User
from portal.tenancy.scoping import instances_compiled_once
from reviews.maintenance.models import MaintenanceWindow


def _calendars(windows: Sequence[MaintenanceWindow]) -> dict[int, BusinessCalendar]:
    """One calendar per engagement, covering the years the windows span (after-hours included)."""
    years: dict[int, set[int]] = defaultdict(set)
    engagements: dict[int, Engagement] = {}
    for window in windows:
        engagements[window.engagement_id] = window.engagement
        zone = window.engagement.zone
        years[window.engagement_id].update(
            {window.starts_at.astimezone(zone).year, window.ends_at.astimezone(zone).year}
        )
    return {
        pk: engagement_calendar(engagement, years=sorted(years[pk]), with_after_hours=True)
        for pk, engagement in engagements.items()
    }


def _window_conflicts(
    window: MaintenanceWindow, calendar: BusinessCalendar
) -> list[dict[str, str]]:
    if not window.is_open:
        return []
    reasons: list[dict[str, str]] = []
    zone = calendar.zone
    for starts_at, ends_at in sorted(calendar.extra_windows):
        if starts_at < window.ends_at and ends_at > window.starts_at:
            reasons.append(
                {
                    "kind": "after_hours",
                    "detail": _("Overlaps approved after-hours support %(start)s – %(end)s.")
                    % {
                        "start": date_format(starts_at.astimezone(zone), "SHORT_DATETIME_FORMAT"),
                        "end": date_format(ends_at.astimezone(zone), "SHORT_DATETIME_FORMAT"),
                    },
                }
            )
    day = window.starts_at.astimezone(zone).date()
    last = (window.ends_at - timedelta(microseconds=1)).astimezone(zone).date()
    while day <= last:
        if day in calendar.holidays:
            reasons.append(
                {
                    "kind": "holiday",
                    "detail": _("Falls on a holiday: %(day)s.")
                    % {"day": date_format(day, "SHORT_DATE_FORMAT")},
                }
            )
        day += timedelta(days=1)
    return reasons


def annotate_conflicts(windows: Sequence[MaintenanceWindow]) -> Sequence[MaintenanceWindow]:
    """Set `window.conflicts` (a list of {"kind", "detail"}) on each window. Windows need their
    engagement loaded (select_related); two queries per distinct engagement."""
    calendars = _calendars(windows)
    for window in windows:
        window.conflicts = _window_conflicts(window, calendars[window.engagement_id])
    return windows


def maintenance_conflicts(window: MaintenanceWindow) -> list[dict[str, str]]:
    """Why the window is flagged: overlaps with approved after-hours requests and holidays of
    the engagement's calendar (local dates). Empty when it is fine, done or cancelled."""
    cached = getattr(window, "conflicts", None)
    if cached is None:
        annotate_conflicts([window])
        cached = window.conflicts
    return cached


def maintenance_upcoming(user: User, *, now: datetime | None = None, limit: int = 10) -> list:
    """Open windows of the next 90 days on the engagements the user sees (customers: their
    organizations'; staff: the ones they serve), of plans that include maintenance. One query."""
    now = now or timezone.now()
    # The entitled plans (cached catalog) are values of the statement, not part of it: a kept
    # statement must not keep the catalog of its day, and a subquery over plans, entitlements
    # and functions was most of its planning.
    plans = entitled_plan_ids(FunctionCode.MAINTENANCE)
    if not plans:
        return []

    def build(values: Sequence[Any]) -> QuerySet[MaintenanceWindow]:
        windows = MaintenanceWindow.objects.filter(
            engagement__plan_id__in=values[2:],
            status__in=(MaintenanceWindow.Status.PLANNED, MaintenanceWindow.Status.CONFIRMED),
            ends_at__gt=values[0],
            starts_at__lte=values[1],
        )
        if user.is_provider_staff:
            windows = windows.filter(Q(engagement__manager=user) | Q(engagement__deputy=user))
        return windows.select_related("engagement").order_by("starts_at", "id")[:limit]

    # Compiled once (`instances_compiled_once`): the dashboard shows it on every visit.
    key = f"maintenance.upcoming:{user.pk}:{user.kind}:{limit}"
    return instances_compiled_once(key, build, [now, now + timedelta(days=90), *plans])
