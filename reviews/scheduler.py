"""The scheduler: keep each active engagement's calls and deliverables on the calendar.

For every weekly, monthly and quarterly cadence of the engagement's plan (and the weekly call
where the plan has one), periods are anchored on the term start; each gets an occurrence at the
engagement's meeting time, moved off weekends, holidays and the manager's absences to the next
business day, inside business hours, never past the term's end. The unique (engagement,
deliverable, period) makes a second run, or two at once, create nothing twice. Future
occurrences the plan no longer has (a plan change) are cancelled; those whose slot moved
(a new absence or holiday) are moved.
"""

from __future__ import annotations

import calendar as calendar_module
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from engagements.business_time import BusinessCalendar, is_business_time
from engagements.models import Absence, Cadence, Engagement, Frequency
from engagements.selectors import engagement_calendar
from reviews.models import WEEKLY_CALL, Occurrence

HORIZON_DAYS = 90
DURATION_MINUTES = {WEEKLY_CALL: 30, "service_review": 60}
SCHEDULED_FREQUENCIES = (Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY)


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar_module.monthrange(year, month)[1]))


def period_starts(frequency: str, anchor: date, until: date) -> Iterator[date]:
    """Starts of the periods from the anchor (the term start) up to `until`."""
    index = 0
    while True:
        if frequency == Frequency.WEEKLY:
            start = anchor + timedelta(weeks=index)
        elif frequency == Frequency.MONTHLY:
            start = add_months(anchor, index)
        elif frequency == Frequency.QUARTERLY:
            start = add_months(anchor, 3 * index)
        else:
            return
        if start > until:
            return
        yield start
        index += 1


@dataclass(frozen=True)
class Wanted:
    deliverable: str
    frequency: str
    method: str

    def period(self, start: date) -> str:
        return f"{self.frequency}:{start.isoformat()}"


def wanted_deliverables(engagement: Engagement) -> list[Wanted]:
    """What the plan schedules: its weekly/monthly/quarterly cadences and the weekly call."""
    wanted = [
        Wanted(deliverable=code, frequency=frequency, method=methods[0])
        for code, frequency, methods in Cadence.objects.filter(
            plan_id=engagement.plan_id, frequency__in=SCHEDULED_FREQUENCIES
        ).values_list("deliverable__code", "frequency", "methods")
    ]
    if engagement.plan.weekly_call:
        wanted.append(Wanted(deliverable=WEEKLY_CALL, frequency=Frequency.WEEKLY, method="video"))
    return wanted


def slot(
    engagement: Engagement, calendar: BusinessCalendar, day: date, absent_days: set[date]
) -> datetime | None:
    """The meeting time on `day`, or on the next business day the manager is present, inside
    business hours; None when that falls past the term's end."""
    zone = engagement.zone
    hours = calendar.hours
    for _attempt in range(60):
        if day > engagement.end_date:
            return None
        opening = hours[day.weekday()]
        if opening is not None and day not in calendar.holidays and day not in absent_days:
            opens, closes = opening
            start_time = min(max(engagement.review_slot, opens), closes)
            start = datetime.combine(day, start_time, tzinfo=zone)
            if start_time >= closes or not is_business_time(calendar, start):
                start = datetime.combine(day, opens, tzinfo=zone)
            return start
        day += timedelta(days=1)
    return None


def _duration(deliverable: str) -> timedelta:
    return timedelta(minutes=DURATION_MINUTES.get(deliverable, 45))


def _back_to_back(
    desired: dict[tuple[str, str], tuple[Wanted, datetime]],
) -> dict[tuple[str, str], tuple[Wanted, datetime]]:
    """Sessions landing at the same time are placed one after the other (the weekly call
    first), so a manager is never booked twice at once. Deterministic: reruns agree."""
    by_start: dict[datetime, list[tuple[str, str]]] = {}
    for key, (_wanted, when) in desired.items():
        by_start.setdefault(when, []).append(key)
    placed = dict(desired)
    for when, keys in by_start.items():
        keys.sort(key=lambda key: (key[0] != WEEKLY_CALL, key[0] != "service_review", key))
        start = when
        for key in keys:
            wanted, _when = desired[key]
            placed[key] = (wanted, start)
            start += _duration(key[0])
    return placed


def _absent_days(engagement: Engagement, first: date, last: date) -> set[date]:
    """Local dates on which the manager is away for at least part of the business day."""
    zone = engagement.zone
    days: set[date] = set()
    absences = Absence.objects.filter(
        manager_id=engagement.manager_id,
        starts_at__lt=datetime.combine(last + timedelta(days=1), time(), tzinfo=zone),
        ends_at__gt=datetime.combine(first, time(), tzinfo=zone),
    ).values_list("starts_at", "ends_at")
    for starts_at, ends_at in absences:
        day = starts_at.astimezone(zone).date()
        end = (ends_at - timedelta(microseconds=1)).astimezone(zone).date()
        while day <= end:
            days.add(day)
            day += timedelta(days=1)
    return days


@dataclass
class ScheduleResult:
    created: int = 0
    moved: int = 0
    cancelled: int = 0


@transaction.atomic
def schedule_engagement(
    engagement: Engagement, *, today: date | None = None, horizon_days: int = HORIZON_DAYS
) -> ScheduleResult:
    """Bring the engagement's future occurrences in line with its plan and calendar."""
    result = ScheduleResult()
    engagement = Engagement.objects.select_related("plan").get(pk=engagement.pk)
    today = today or engagement.local_today()
    now = timezone.now()
    first = max(today, engagement.start_date)
    until = min(today + timedelta(days=horizon_days), engagement.end_date)
    desired: dict[tuple[str, str], tuple[Wanted, datetime]] = {}
    if first <= until:
        calendar = engagement_calendar(
            engagement, years=range(first.year, until.year + 2), with_after_hours=False
        )
        absent = _absent_days(engagement, first, until + timedelta(days=60))
        for wanted in wanted_deliverables(engagement):
            for start in period_starts(wanted.frequency, engagement.start_date, until):
                if start < first:
                    continue
                when = slot(engagement, calendar, start, absent)
                if when is not None:
                    desired[(wanted.deliverable, wanted.period(start))] = (wanted, when)
        desired = _back_to_back(desired)
    existing = {
        (occurrence.deliverable, occurrence.period): occurrence
        for occurrence in Occurrence.objects.select_for_update()
        .filter(
            engagement=engagement,
            status__in=(Occurrence.Status.SCHEDULED, Occurrence.Status.CANCELLED),
            scheduled_start__gte=now,
        )
        .exclude(period__startswith=f"{Frequency.AS_NEEDED}:")
    }
    for key, occurrence in existing.items():
        scheduled = occurrence.status == Occurrence.Status.SCHEDULED
        if key not in desired:
            if scheduled:
                occurrence.status = Occurrence.Status.CANCELLED
                occurrence.save(update_fields=["status"])
                result.cancelled += 1
        elif not scheduled or occurrence.scheduled_start != desired[key][1]:
            # Moved by a new absence or holiday, or wanted again after a plan change back.
            occurrence.status = Occurrence.Status.SCHEDULED
            occurrence.scheduled_start = desired[key][1]
            occurrence.save(update_fields=["status", "scheduled_start"])
            result.moved += 1
    new = [
        Occurrence(
            engagement=engagement,
            deliverable=wanted.deliverable,
            period=period,
            scheduled_start=when,
            method=wanted.method,
            duration_minutes=DURATION_MINUTES.get(wanted.deliverable, 45),
        )
        for (deliverable, period), (wanted, when) in desired.items()
        if (deliverable, period) not in existing and when >= now
    ]
    # ignore_conflicts: an occurrence of the period that exists already (completed, missed,
    # cancelled, or created by a concurrent run) is left as it is.
    before = Occurrence.objects.filter(engagement=engagement).count()
    Occurrence.objects.bulk_create(new, ignore_conflicts=True)
    result.created = Occurrence.objects.filter(engagement=engagement).count() - before
    return result


def active_engagement_ids(today: date) -> list[int]:
    return list(
        Engagement.objects.filter(
            start_date__lte=today + timedelta(days=HORIZON_DAYS), end_date__gte=today
        ).values_list("id", flat=True)
    )
