"""Personal calendar feeds (iCalendar): reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from engagements.catalog.models import Method, function_names
from engagements.entitlements import FunctionCode, entitled_engagements
from portal.accounts.models import User
from reviews.maintenance.models import MaintenanceWindow
from reviews.releases.models import ChangeItem
from reviews.scheduling.models import WEEKLY_CALL, Occurrence

PAST = timedelta(days=30)


AHEAD = timedelta(days=180)


SHOWN_STATUSES = (
    Occurrence.Status.SCHEDULED,
    Occurrence.Status.COMPLETED,
    Occurrence.Status.CANCELLED,
)


def feed_occurrences(user: User, *, now: datetime) -> QuerySet[Occurrence]:
    """The user's occurrences from 30 days ago to 180 days ahead; call inside their scope.

    Customers: their organizations' engagements (the scope). Staff, admins included: the
    engagements they manage or deputize, not everything an admin may see.
    """
    occurrences = Occurrence.objects.filter(
        status__in=SHOWN_STATUSES,
        scheduled_start__gte=now - PAST,
        scheduled_start__lte=now + AHEAD,
    )
    if user.is_provider_staff:
        occurrences = occurrences.filter(Q(engagement__manager=user) | Q(engagement__deputy=user))
    return occurrences.select_related("engagement").order_by("scheduled_start", "id")


def _uid_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "service-portal"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def build_calendar(user: User, occurrences: QuerySet[Occurrence], *, now: datetime) -> bytes:
    """A VCALENDAR with one VEVENT per occurrence, in the user's language."""
    host = _uid_host()
    site = settings.SITE_URL.rstrip("/")
    methods = dict(Method.choices)
    with translation.override(user.language):
        labels = function_names()
        labels[WEEKLY_CALL] = _("Weekly call")
        calendar = Calendar()
        calendar.add("prodid", "-//Service Portal//Reviews and calls//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", _("Service Portal: reviews and calls"))
        calendar.add("x-published-ttl", "PT1H")
        for occurrence in occurrences:
            label = labels.get(occurrence.deliverable, occurrence.deliverable)
            method = str(methods.get(occurrence.method, occurrence.method))
            link = f"{site}/reviews/{occurrence.pk}/"
            event = Event()
            event.add("uid", f"occurrence-{occurrence.pk}@{host}")
            event.add("dtstamp", _utc(now))
            event.add("dtstart", _utc(occurrence.scheduled_start))
            event.add("dtend", _utc(occurrence.ends_at))
            event.add("summary", f"{label}: {occurrence.engagement.name}")
            event.add("description", f"{_('Method')}: {method}\n{link}")
            event.add("url", link)
            event.add(
                "status",
                "CANCELLED" if occurrence.status == Occurrence.Status.CANCELLED else "CONFIRMED",
            )
            event.add("last-modified", _utc(occurrence.completed_at or occurrence.created_at))
            calendar.add_component(event)
        for event in maintenance_feed_events(user, now=now, host=host, site=site):
            calendar.add_component(event)
        for event in dated_feed_events(user, now=now, host=host, site=site):
            calendar.add_component(event)
    return calendar.to_ical()


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

    from cases.risks.models import Risk
    from engagements.upgrades.models import UpgradeMilestone

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
