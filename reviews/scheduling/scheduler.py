"""The scheduler: keep each active engagement's calls and deliverables on the calendar.

For every weekly, monthly and quarterly cadence of the engagement's plan whose deliverable the
plan includes (and the weekly call where the plan has one), periods are anchored on the term
start; each gets an occurrence at the engagement's meeting time, moved off weekends, holidays and
the manager's absences to the next business day, never past the term's end. A period that began
before the engagement was created gets the first slot after its creation while the period lasts.
A day's sessions follow one another from the meeting time, each wholly inside business hours;
what does not fit before closing moves to the next business day. The unique (engagement,
deliverable, period) makes a second run, or two at once, create nothing twice. Future
occurrences the plan no longer has (a plan change) are cancelled; those whose slot moved
(a new absence or holiday) are moved.
"""

from __future__ import annotations

import calendar as calendar_module
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from engagements.absences.models import Absence
from engagements.business_time import BusinessCalendar, is_business_time
from engagements.catalog.models import Cadence, Entitlement, Frequency
from engagements.contracts.models import Engagement, EngagementHoliday
from engagements.entitlements import FunctionCode
from engagements.selectors import calendar_from, engagement_calendar
from portal.db import insert_ignoring_conflicts
from portal.tenancy.scoping import unscoped_raw
from portal.webhooks.events import emit
from reviews.scheduling.models import WEEKLY_CALL, Occurrence

HORIZON_DAYS = 90


ABSENCE_LOOKAHEAD_DAYS = 60  # a slot moved off an absence may land this far past the horizon


LONGEST_PERIOD_DAYS = 92  # a quarter: the current period began at most this long ago


RUN_CHUNK = 500  # engagements a full run reads (and prefetches for) at once


DURATION_MINUTES = {WEEKLY_CALL: 30, FunctionCode.SERVICE_REVIEW: 60}


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


def periods(frequency: str, anchor: date, until: date) -> Iterator[tuple[date, date]]:
    """(start, next period's start) of the periods from the anchor that start by `until`."""
    starts = period_starts(frequency, anchor, until + timedelta(days=LONGEST_PERIOD_DAYS))
    start = next(starts, None)
    for following in starts:
        assert start is not None  # a following start comes after a first one
        if start > until:
            return
        yield start, following
        start = following


@dataclass(frozen=True)
class Wanted:
    deliverable: str
    frequency: str
    method: str

    def period(self, start: date) -> str:
        return f"{self.frequency}:{start.isoformat()}"


Desired = dict[tuple[str, str], tuple[Wanted, datetime]]


@dataclass
class Prefetched:
    """What a run over many engagements reads once instead of once per engagement: the plans'
    scheduled cadences, the holidays admins added to the engagements, and the managers'
    absences (those overlapping the run's widest window)."""

    cadences: dict[int, list[Wanted]] = field(default_factory=dict)  # by plan id
    # engagement id -> ((local today, horizon), desired occurrences) computed by the run
    desired: dict[int, tuple[tuple[date, int], dict]] = field(default_factory=dict)
    # engagements whose coming occurrences the run found none of: nothing to move or cancel
    nothing_coming: set[int] = field(default_factory=set)
    holidays: dict[int, set[date]] = field(default_factory=dict)  # by engagement id
    absences: dict[int, list[tuple[datetime, datetime]]] = field(default_factory=dict)


def prefetch(
    engagements: Iterable[Engagement], today: date, horizon_days: int = HORIZON_DAYS
) -> Prefetched:
    """Three queries for all of `engagements` (scheduled around `today`, any zone)."""
    engagements = list(engagements)
    found = Prefetched(
        cadences={engagement.plan_id: [] for engagement in engagements},
        holidays={engagement.pk: set() for engagement in engagements},
        absences={engagement.manager_id: [] for engagement in engagements},
    )
    for plan_id, code, frequency, methods in (
        _included(
            Cadence.objects.filter(plan_id__in=found.cadences, frequency__in=SCHEDULED_FREQUENCIES)
        )
        .order_by("plan_id", "deliverable__position", "id")
        .values_list("plan_id", "deliverable__code", "frequency", "methods")
    ):
        found.cadences[plan_id].append(Wanted(code, frequency, methods[0]))
    for engagement_id, day in EngagementHoliday.objects.filter(
        engagement_id__in=found.holidays
    ).values_list("engagement_id", "date"):
        found.holidays[engagement_id].add(day)
    # Local "today" differs from `today` by a day at most; two days either side covers it. The
    # current periods began up to a quarter before it (their slots are computed too).
    window_start = datetime.combine(
        today - timedelta(days=LONGEST_PERIOD_DAYS + 2), time(), tzinfo=UTC
    )
    window_end = datetime.combine(
        today + timedelta(days=horizon_days + ABSENCE_LOOKAHEAD_DAYS + 3), time(), tzinfo=UTC
    )
    for manager_id, starts_at, ends_at in Absence.objects.filter(
        manager_id__in=found.absences, starts_at__lt=window_end, ends_at__gt=window_start
    ).values_list("manager_id", "starts_at", "ends_at"):
        found.absences[manager_id].append((starts_at, ends_at))
    return found


def _included(cadences: QuerySet[Cadence]) -> QuerySet[Cadence]:
    """The cadences whose deliverable their plan includes (a ✓ of the matrix)."""
    return cadences.filter(
        Exists(
            Entitlement.objects.filter(
                plan_id=OuterRef("plan_id"), function_id=OuterRef("deliverable_id")
            )
        )
    )


def wanted_deliverables(
    engagement: Engagement, prefetched: Prefetched | None = None
) -> list[Wanted]:
    """What the plan schedules: its weekly/monthly/quarterly cadences and the weekly call."""
    if prefetched is not None and engagement.plan_id in prefetched.cadences:
        wanted = list(prefetched.cadences[engagement.plan_id])
    else:
        wanted = [
            Wanted(deliverable=code, frequency=frequency, method=methods[0])
            for code, frequency, methods in _included(
                Cadence.objects.filter(
                    plan_id=engagement.plan_id, frequency__in=SCHEDULED_FREQUENCIES
                )
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


def first_slot_after(
    engagement: Engagement, calendar: BusinessCalendar, moment: datetime, absent_days: set[date]
) -> datetime | None:
    """The first slot (as `slot` gives) at or after `moment`; None past the term's end."""
    day = moment.astimezone(engagement.zone).date()
    for _attempt in range(60):
        when = slot(engagement, calendar, day, absent_days)
        if when is None or when >= moment:
            return when
        day = when.date() + timedelta(days=1)
    return None


def _order(key: tuple[str, str], when: datetime) -> tuple[bool, bool, datetime, tuple[str, str]]:
    """A day's sessions: the weekly call first, then the service review, then by slot."""
    return (key[0] != WEEKLY_CALL, key[0] != FunctionCode.SERVICE_REVIEW, when, key)


def back_to_back(
    desired: Desired,
    engagement: Engagement,
    calendar: BusinessCalendar,
    absent_days: set[date],
) -> Desired:
    """Each day's sessions one after the other from the day's slot (the weekly call first), so
    a manager is never booked twice at once, each wholly inside the day's business hours.

    The first session that would end after closing moves, with those after it, to the next
    business day the manager is present (as `slot` finds it) and joins that day's sessions. A
    day's first session that does not fit after the meeting time starts earlier, ending at
    closing (never before opening). A session that fits on no day within
    ABSENCE_LOOKAHEAD_DAYS of its slot, or before the term's end, is left off.
    Deterministic: reruns agree."""
    zone = engagement.zone
    by_day: dict[date, list[tuple[str, str]]] = {}
    for key, (_wanted, when) in desired.items():
        by_day.setdefault(when.astimezone(zone).date(), []).append(key)
    placed: Desired = {}
    while by_day:
        day = min(by_day)
        keys = sorted(by_day.pop(day), key=lambda key: _order(key, desired[key][1]))
        start = slot(engagement, calendar, day, absent_days)
        opening = calendar.hours[day.weekday()]
        if start is None or start.date() != day or opening is None:
            continue  # not a business day (cannot happen for a slot's day)
        opens = datetime.combine(day, opening[0], tzinfo=zone)
        closes = datetime.combine(day, opening[1], tzinfo=zone)
        for index, key in enumerate(keys):
            length = _duration(key[0])
            if index == 0 and start + length > closes:
                start = max(opens, closes - length)
            if start + length > closes:
                following = slot(engagement, calendar, day + timedelta(days=1), absent_days)
                for moved in keys[index:]:
                    first_day = desired[moved][1].astimezone(zone).date()
                    if following is not None and following.date() <= first_day + timedelta(
                        days=ABSENCE_LOOKAHEAD_DAYS
                    ):
                        by_day.setdefault(following.date(), []).append(moved)
                break
            placed[key] = (desired[key][0], start)
            start += length
    return placed


def _absent_days(
    engagement: Engagement, first: date, last: date, prefetched: Prefetched | None = None
) -> set[date]:
    """Local dates on which the manager is away for at least part of the business day."""
    zone = engagement.zone
    days: set[date] = set()
    window_end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    window_start = datetime.combine(first, time(), tzinfo=zone)
    if prefetched is not None and engagement.manager_id in prefetched.absences:
        absences: Iterable[tuple[datetime, datetime]] = [
            (starts_at, ends_at)
            for starts_at, ends_at in prefetched.absences[engagement.manager_id]
            if starts_at < window_end and ends_at > window_start
        ]
    else:
        absences = Absence.objects.filter(
            manager_id=engagement.manager_id, starts_at__lt=window_end, ends_at__gt=window_start
        ).values_list("starts_at", "ends_at")
    for starts_at, ends_at in absences:
        day = starts_at.astimezone(zone).date()
        end = (ends_at - timedelta(microseconds=1)).astimezone(zone).date()
        while day <= end:
            days.add(day)
            day += timedelta(days=1)
    return days


def _calendar(
    engagement: Engagement, years: range, prefetched: Prefetched | None
) -> BusinessCalendar:
    """`engagement_calendar` without after-hours windows (from the prefetched holidays)."""
    if prefetched is None or engagement.pk not in prefetched.holidays:
        return engagement_calendar(engagement, years=years, with_after_hours=False)
    return calendar_from(engagement, years, prefetched.holidays[engagement.pk])


# Columns that differ between the occurrences one run inserts for an engagement; every other
# column (the engagement, the status and the other defaults) is the same for all of them.
_VARYING = ("deliverable", "period", "scheduled_start", "duration_minutes", "method")


def _insert_new(engagement: Engagement, rows: list[dict[str, object]]) -> int:
    """Insert the new occurrences, leaving any of a period that exists already (completed,
    missed, cancelled, or created by a concurrent run) as it is; returns how many were new.

    `rows` hold the _VARYING columns by attribute name; every other column comes from one
    unsaved Occurrence of the engagement (a first run creates ~70,000 rows: building a model
    instance for each cost more than the insert)."""
    return insert_ignoring_conflicts(Occurrence(engagement=engagement), _VARYING, rows)


@dataclass
class ScheduleResult:
    created: int = 0
    moved: int = 0
    cancelled: int = 0
    engagements: int = 0


# The model's own table, no input.
_REREAD = f"SELECT * FROM {Engagement._meta.db_table} WHERE id = %s"  # noqa: S608


def _fields(engagement: Engagement) -> list[object]:
    return [getattr(engagement, f.attname) for f in Engagement._meta.concrete_fields]


def desired_occurrences(
    engagement: Engagement,
    today: date,
    horizon_days: int = HORIZON_DAYS,
    prefetched: Prefetched | None = None,
) -> Desired:
    """(deliverable, period) → (what, when) of the engagement's horizon from `today`, with the
    current periods (begun before `today`; their sessions may have been moved past it).

    A period that began before the engagement was created (and was never scheduled) gets the
    first slot after the creation, if that lies inside the period."""
    first = max(today, engagement.start_date)
    until = min(today + timedelta(days=horizon_days), engagement.end_date)
    desired: Desired = {}
    if first <= until:
        since = max(first - timedelta(days=LONGEST_PERIOD_DAYS), engagement.start_date)
        calendar = _calendar(engagement, range(since.year, until.year + 2), prefetched)
        absent = _absent_days(
            engagement, since, until + timedelta(days=ABSENCE_LOOKAHEAD_DAYS), prefetched
        )
        created = engagement.created_at
        for wanted in wanted_deliverables(engagement, prefetched):
            for start, following in periods(wanted.frequency, engagement.start_date, until):
                if following <= first:
                    continue  # over before today
                when = slot(engagement, calendar, start, absent)
                if when is not None and created is not None and when < created:
                    when = first_slot_after(engagement, calendar, created, absent)
                    if when is not None and when.date() >= following:
                        when = None  # no business day of the period left after the creation
                if when is not None:
                    desired[(wanted.deliverable, wanted.period(start))] = (wanted, when)
        desired = back_to_back(desired, engagement, calendar, absent)
    return desired


def _coming(rows: dict[tuple[str, str], tuple[str, datetime]], now: datetime) -> bool:
    """Whether any of the rows is one `schedule_engagement` could move or cancel."""
    return any(
        status in (Occurrence.Status.SCHEDULED, Occurrence.Status.CANCELLED)
        and start >= now
        and not period.startswith(f"{Frequency.AS_NEEDED}:")
        for (_deliverable, period), (status, start) in rows.items()
    )


def _in_line(
    desired: Desired, rows: dict[tuple[str, str], tuple[str, datetime]], now: datetime
) -> bool:
    """Whether `schedule_engagement` would find nothing to do, judged from the engagement's
    occurrences from shortly before `now` (read without locks). Conservative: a row it cannot
    see (scheduled long before its period) makes it answer False, and the full path decides."""
    for key, (status, start) in rows.items():
        if (
            status not in (Occurrence.Status.SCHEDULED, Occurrence.Status.CANCELLED)
            or start < now
            or key[1].startswith(f"{Frequency.AS_NEEDED}:")
        ):
            continue
        if key in desired:
            if status != Occurrence.Status.SCHEDULED or start != desired[key][1]:
                return False  # would be moved
        elif status == Occurrence.Status.SCHEDULED:
            return False  # would be cancelled
    # Every wanted future slot has its row (in any state: an insert would do nothing).
    return all(when < now or key in rows for key, (_wanted, when) in desired.items())


@transaction.atomic
def schedule_engagement(
    engagement: Engagement,
    *,
    today: date | None = None,
    horizon_days: int = HORIZON_DAYS,
    prefetched: Prefetched | None = None,
) -> ScheduleResult:
    """Bring the engagement's future occurrences in line with its plan and calendar.

    With `prefetched` (a full run), the prefetched cadences, holidays and absences (and the
    horizon the run computed) are used, unless the engagement changed since the run read it;
    else all is read here. The engagement itself is always read afresh.
    """
    result = ScheduleResult()
    if prefetched is not None:
        # The row alone, by a statement of a fixed text (a full run does this 3,000 times):
        # unchanged since the run read it, the run's engagement (plan loaded) stands for it.
        reread = unscoped_raw(Engagement, _REREAD, [engagement.pk], "the run's engagement, re-read")
        fresh = next(iter(reread), None)
        if fresh is None or _fields(fresh) != _fields(engagement):
            prefetched = None  # changed since the run read it (its own scheduling may be running)
    if prefetched is None:
        engagement = Engagement.objects.select_related("plan").get(pk=engagement.pk)
    today = today or engagement.local_today()
    now = timezone.now()
    desired = None
    if prefetched is not None:
        computed = prefetched.desired.pop(engagement.pk, None)
        if computed is not None and computed[0] == (today, horizon_days):
            desired = computed[1]
    if desired is None:
        desired = desired_occurrences(engagement, today, horizon_days, prefetched)
    # Nothing coming (a new engagement, or a run creating the horizons): nothing to move or
    # cancel, so nothing to lock; the insert alone is safe against a concurrent run (its rows
    # are left as they are).
    existing: dict[tuple[str, str], Occurrence] = {}
    if prefetched is None or engagement.pk not in prefetched.nothing_coming:
        existing = {
            (occurrence.deliverable, occurrence.period): occurrence
            for occurrence in Occurrence.objects.select_for_update()
            .filter(
                engagement=engagement,
                status__in=(Occurrence.Status.SCHEDULED, Occurrence.Status.CANCELLED),
                scheduled_start__gte=now,
            )
            .exclude(period__startswith=f"{Frequency.AS_NEEDED}:")
            .order_by("pk")  # locked in id order (see portal.locks)
        }
    for key, occurrence in existing.items():
        scheduled = occurrence.status == Occurrence.Status.SCHEDULED
        if key not in desired:
            if scheduled:
                occurrence.status = Occurrence.Status.CANCELLED
                occurrence.save(update_fields=["status", "updated_at"])
                result.cancelled += 1
        elif not scheduled or occurrence.scheduled_start != desired[key][1]:
            # Moved by a new absence or holiday, or wanted again after a plan change back.
            occurrence.status = Occurrence.Status.SCHEDULED
            occurrence.scheduled_start = desired[key][1]
            occurrence.save(update_fields=["status", "scheduled_start", "updated_at"])
            result.moved += 1
            emit("review.rescheduled" if scheduled else "review.scheduled", occurrence)
    new = [
        {
            "deliverable": wanted.deliverable,
            "period": period,
            "scheduled_start": when,
            "method": wanted.method,
            "duration_minutes": DURATION_MINUTES.get(wanted.deliverable, 45),
        }
        for (deliverable, period), (wanted, when) in desired.items()
        if (deliverable, period) not in existing and when >= now
    ]
    result.created = _insert_new(engagement, new)
    _announce_new(engagement, new, now)
    return result


# Webhooks hear of new sessions this close ahead; the rest when they are moved or held (a first
# run plans years of sessions: announcing each would flood every subscriber).
ANNOUNCE_WITHIN = timedelta(days=30)


def _announce_new(engagement: Engagement, new: list[dict[str, object]], now: datetime) -> None:
    soon = [row["period"] for row in new if row["scheduled_start"] < now + ANNOUNCE_WITHIN]  # type: ignore[operator]
    if not soon:
        return
    for occurrence in Occurrence.objects.filter(
        engagement=engagement, period__in=soon, scheduled_start__lt=now + ANNOUNCE_WITHIN
    ).order_by("scheduled_start", "pk"):
        emit("review.scheduled", occurrence)


def active_engagement_ids(today: date, plan_id: int | None = None) -> list[int]:
    """The engagements a run schedules (of one plan, given `plan_id`), in id order."""
    engagements = Engagement.objects.filter(
        start_date__lte=today + timedelta(days=HORIZON_DAYS), end_date__gte=today
    )
    if plan_id is not None:
        engagements = engagements.filter(plan_id=plan_id)
    return list(engagements.order_by("pk").values_list("id", flat=True))


def schedule_all(today: date | None = None) -> ScheduleResult:
    """Every active engagement's horizon, each in its own transaction (the daily job).

    Engagements are read in chunks with their plans, and each chunk's cadences, holidays,
    absences and coming occurrences in four queries. An engagement whose coming occurrences are
    already in line with its plan and calendar (the usual case on a repeat run) is passed over
    without a transaction; the others go through `schedule_engagement`, which re-reads the
    engagement (a change made meanwhile discards the run's reads) and locks the coming
    occurrences it may move or cancel (none to lock where the run found none coming).
    """
    today = today or timezone.now().date()
    totals = ScheduleResult()
    ids = active_engagement_ids(today)
    for offset in range(0, len(ids), RUN_CHUNK):
        chunk = list(
            Engagement.objects.select_related("plan")
            .filter(pk__in=ids[offset : offset + RUN_CHUNK])
            .order_by("pk")
        )
        prefetched = prefetch(chunk, today)
        now = timezone.now()
        rows: dict[int, dict[tuple[str, str], tuple[str, datetime]]] = {
            engagement.pk: {} for engagement in chunk
        }
        for engagement_id, deliverable, period, status, start in Occurrence.objects.filter(
            engagement_id__in=rows, scheduled_start__gte=now - timedelta(days=2)
        ).values_list("engagement_id", "deliverable", "period", "status", "scheduled_start"):
            rows[engagement_id][(deliverable, period)] = (status, start)
        for engagement in chunk:
            totals.engagements += 1
            local_today = engagement.local_today()
            desired = desired_occurrences(engagement, local_today, HORIZON_DAYS, prefetched)
            if _in_line(desired, rows[engagement.pk], now):
                continue
            if not _coming(rows[engagement.pk], now):
                prefetched.nothing_coming.add(engagement.pk)
            prefetched.desired[engagement.pk] = ((local_today, HORIZON_DAYS), desired)
            result = schedule_engagement(engagement, prefetched=prefetched)
            totals.created += result.created
            totals.moved += result.moved
            totals.cancelled += result.cancelled
    return totals
