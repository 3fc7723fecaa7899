"""Reads of the maintenance and release-management service functions.

`maintenance_conflicts` flags a window that overlaps an approved after-hours request or a holiday
of the engagement's calendar; `unacknowledged_soon` lists changes close to their date that a
named contact has not acknowledged yet. Call inside the actor's (or the system's) scope; the
batch forms issue a constant number of queries per engagement, never per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from engagements.business_time import BusinessCalendar
from engagements.entitlements import FunctionCode, entitled_engagements
from engagements.models import Contact, Engagement
from engagements.selectors import engagement_calendar
from portal.accounts.models import User
from reviews.models import ChangeAcknowledgement, ChangeItem, MaintenanceWindow
from reviews.reminders import business_days_before

ACKNOWLEDGE_BUSINESS_DAYS = 3
# Three business days before can be a long weekend plus holidays away: look two weeks ahead.
SOON_HORIZON = timedelta(days=14)


# --- Maintenance conflicts ---------------------------------------------------------------------


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


# --- Maintenance on the dashboard --------------------------------------------------------------


def maintenance_upcoming(user: User, *, now: datetime | None = None, limit: int = 10) -> list:
    """Open windows of the next 90 days on the engagements the user sees (customers: their
    organizations'; staff: the ones they serve), of plans that include maintenance. One query."""
    now = now or timezone.now()
    windows = MaintenanceWindow.objects.filter(
        engagement__in=entitled_engagements(FunctionCode.MAINTENANCE),
        status__in=(MaintenanceWindow.Status.PLANNED, MaintenanceWindow.Status.CONFIRMED),
        ends_at__gt=now,
        starts_at__lte=now + timedelta(days=90),
    )
    if user.is_provider_staff:
        windows = windows.filter(Q(engagement__manager=user) | Q(engagement__deputy=user))
    return list(windows.select_related("engagement").order_by("starts_at", "id")[:limit])


# --- Release management ------------------------------------------------------------------------


def unacknowledged_soon(
    engagements: Iterable[Engagement] | QuerySet[Engagement], *, now: datetime | None = None
) -> list[ChangeItem]:
    """Open changes of the engagements (whose plan includes release management), due within
    3 business days, that some active named contact has not acknowledged. Each carries
    `pending`: the contacts (users) still to acknowledge. Earliest first."""
    now = now or timezone.now()
    engagement_ids = [
        engagement.pk if isinstance(engagement, Engagement) else engagement
        for engagement in engagements
    ]
    changes = list(
        ChangeItem.objects.filter(
            engagement_id__in=engagement_ids,
            engagement__in=entitled_engagements(FunctionCode.RELEASE_MANAGEMENT),
            status__in=(ChangeItem.Status.PLANNED, ChangeItem.Status.SCHEDULED),
            scheduled_at__gt=now,
            scheduled_at__lte=now + SOON_HORIZON,
        )
        .select_related("engagement__organization")
        .order_by("scheduled_at", "id")
    )
    if not changes:
        return []
    contacts: dict[int, list[Any]] = defaultdict(list)
    for contact in Contact.objects.filter(
        engagement_id__in={change.engagement_id for change in changes}, removed_at__isnull=True
    ).select_related("user"):
        if contact.user.is_active:
            contacts[contact.engagement_id].append(contact.user)
    acknowledged: dict[int, set[int]] = defaultdict(set)
    for change_id, user_id in ChangeAcknowledgement.objects.filter(
        change__in=[change.pk for change in changes]
    ).values_list("change_id", "user_id"):
        acknowledged[change_id].add(user_id)
    calendars: dict[int, BusinessCalendar] = {}
    soon = []
    for change in changes:
        engagement = change.engagement
        if engagement.pk not in calendars:
            calendars[engagement.pk] = engagement_calendar(engagement, with_after_hours=False)
        if (
            business_days_before(
                calendars[engagement.pk], change.scheduled_at, ACKNOWLEDGE_BUSINESS_DAYS
            )
            > now
        ):
            continue
        change.pending = [
            user for user in contacts[engagement.pk] if user.pk not in acknowledged[change.pk]
        ]
        if change.pending:
            soon.append(change)
    return soon


# --- The calendar feed -------------------------------------------------------------------------


def feed_maintenance_windows(user: User, *, now: datetime) -> QuerySet[MaintenanceWindow]:
    """Windows for the user's calendar feed, like its occurrences: 30 days back, 180 ahead;
    customers their organizations' (the scope), staff the engagements they serve. One query."""
    windows = MaintenanceWindow.objects.filter(
        engagement__in=entitled_engagements(FunctionCode.MAINTENANCE),
        status__in=(
            MaintenanceWindow.Status.PLANNED,
            MaintenanceWindow.Status.CONFIRMED,
            MaintenanceWindow.Status.DONE,
            MaintenanceWindow.Status.CANCELLED,
        ),
        starts_at__gte=now - timedelta(days=30),
        starts_at__lte=now + timedelta(days=180),
    )
    if user.is_provider_staff:
        windows = windows.filter(Q(engagement__manager=user) | Q(engagement__deputy=user))
    return windows.select_related("engagement").order_by("starts_at", "id")


def maintenance_feed_events(user: User, *, now: datetime, host: str, site: str) -> list[Any]:
    """One VEVENT per maintenance window of the user's feed (call in their scope and language)."""
    from icalendar import Event

    events = []
    for window in feed_maintenance_windows(user, now=now):
        link = f"{site}/engagements/{window.engagement_id}/maintenance/#window-{window.pk}"
        event = Event()
        event.add("uid", f"maintenance-{window.pk}@{host}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", window.starts_at.astimezone(UTC))
        event.add("dtend", window.ends_at.astimezone(UTC))
        event.add(
            "summary",
            _("Maintenance: %(title)s (%(engagement)s)")
            % {"title": window.title, "engagement": window.engagement.name},
        )
        description = [
            _("Systems affected: %(systems)s") % {"systems": window.systems_affected or "-"},
            _("Expected impact: %(impact)s") % {"impact": window.expected_impact or "-"},
            link,
        ]
        event.add("description", "\n".join(description))
        event.add("url", link)
        event.add(
            "status",
            "CANCELLED"
            if window.status == MaintenanceWindow.Status.CANCELLED
            else (
                "CONFIRMED" if window.status != MaintenanceWindow.Status.PLANNED else "TENTATIVE"
            ),
        )
        event.add("last-modified", window.created_at.astimezone(UTC))
        events.append(event)
    return events


def dated_feed_events(user: User, *, now: datetime, host: str, site: str) -> list[Any]:
    """Feed entries of the other dated service functions the user may see: changes (a one-hour
    event at their scheduled time), upgrade milestones and risk reviews (all-day, on their date).
    Each kind is one query, only for engagements whose plan includes its function."""
    from icalendar import Event

    from cases.models import Risk
    from engagements.models import UpgradeMilestone

    first, last = now - timedelta(days=30), now + timedelta(days=180)
    mine = Q(engagement__manager=user) | Q(engagement__deputy=user)
    changes = ChangeItem.objects.filter(
        engagement__in=entitled_engagements(FunctionCode.RELEASE_MANAGEMENT),
        scheduled_at__gte=first,
        scheduled_at__lte=last,
    ).select_related("engagement")
    milestones = UpgradeMilestone.objects.filter(
        plan__engagement__in=entitled_engagements(FunctionCode.UPGRADE_PLANNING),
        due_date__gte=first.date(),
        due_date__lte=last.date(),
    ).select_related("plan__engagement")
    risks = Risk.objects.filter(
        engagement__in=entitled_engagements(FunctionCode.RISK_MITIGATION),
        status__in=Risk.ACTIVE_STATUSES,
        next_review_date__gte=first.date(),
        next_review_date__lte=last.date(),
    ).select_related("engagement")
    if user.is_provider_staff:
        changes = changes.filter(mine)
        milestones = milestones.filter(
            Q(plan__engagement__manager=user) | Q(plan__engagement__deputy=user)
        )
        risks = risks.filter(mine)
    events = []

    def add(
        uid: str, summary: str, link: str, start: Any, end: Any, cancelled: bool = False
    ) -> None:
        event = Event()
        event.add("uid", f"{uid}@{host}")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", summary)
        event.add("description", link)
        event.add("url", link)
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        events.append(event)

    for change in changes:
        add(
            f"change-{change.pk}",
            _("Change: %(title)s (%(engagement)s)")
            % {"title": change.title, "engagement": change.engagement.name},
            f"{site}/engagements/{change.engagement_id}/changes/",
            change.scheduled_at.astimezone(UTC),
            (change.scheduled_at + timedelta(hours=1)).astimezone(UTC),
            cancelled=change.status == ChangeItem.Status.CANCELLED,
        )
    for milestone in milestones:
        engagement = milestone.plan.engagement
        add(
            f"upgrade-milestone-{milestone.pk}",
            _("Upgrade milestone: %(title)s (%(engagement)s)")
            % {"title": milestone.title, "engagement": engagement.name},
            f"{site}/engagements/{engagement.pk}/upgrades/",
            milestone.due_date,
            milestone.due_date + timedelta(days=1),
        )
    for risk in risks:
        add(
            f"risk-review-{risk.pk}-{risk.next_review_date.isoformat()}",
            _("Risk review: %(title)s (%(engagement)s)")
            % {"title": risk.title, "engagement": risk.engagement.name},
            f"{site}/engagements/{risk.engagement_id}/risks/",
            risk.next_review_date,
            risk.next_review_date + timedelta(days=1),
        )
    return events
