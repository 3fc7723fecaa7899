"""The service review report: a customer-specific account of one review period (SPEC §6).

`build_report(occurrence, as_of=...)` returns JSON-ready data (dates as ISO strings) and is what a
completed review freezes as its `ReportSnapshot`. Case figures are "as known at `as_of`": a case
received, answered or resolved after `as_of` counts as not (yet) received, answered or resolved,
and an occurrence completed after it as not completed. Hours count time entries by their date.
Data edited later (an imported case, a corrected entry) changes a rebuilt report, not the snapshot.

The report runs a constant number of queries whatever the volume: one for the cases, one for the
time entries, one for the occurrences (plus one for their names), one for the overage flags, one
for the customers' ratings of the period's resolutions and the two of the business calendar;
everything else is counted in Python over those rows.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.text import slugify

from cases.casework.models import Case
from cases.fixes.models import FixRequest
from cases.satisfaction.models import CaseRating
from engagements.business_time import business_time_between
from engagements.catalog.models import Frequency, function_names_by_language
from engagements.contracts.models import Engagement
from engagements.selectors import engagement_calendar
from engagements.time.models import OverageFlag, TimeEntry
from engagements.time.selectors import week_start
from reviews.scheduling.models import Occurrence
from reviews.scheduling.scheduler import add_months

REPORT_VERSION = 1


TREND_PERIODS = 6  # previous periods shown beside the review's own


OPEN_ITEMS_LISTED = 50


RESOLUTIONS_LISTED = 100


_PERIODIC = (Frequency.WEEKLY, Frequency.MONTHLY, Frequency.QUARTERLY)


_SECONDS_A_DAY = 86_400


@dataclass(frozen=True)
class Period:
    """Local dates `[start, end)` of a review period and how to step to the one before."""

    frequency: str  # weekly | monthly | quarterly (as-needed reviews report a calendar month)
    start: date
    end: date

    def shifted(self, periods: int) -> Period:
        """The period `periods` steps later (negative: earlier), of the same length."""
        return Period(
            self.frequency,
            _step(self.frequency, self.start, periods),
            _step(self.frequency, self.start, periods + 1),
        )

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.end <= self.start:  # empty: the first review, held at the term's start
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.last_day.isoformat()}"


def _step(frequency: str, start: date, periods: int) -> date:
    if frequency == Frequency.WEEKLY:
        return start + timedelta(weeks=periods)
    if frequency == Frequency.QUARTERLY:
        return add_months(start, 3 * periods)
    return add_months(start, periods)


def _held_in(occurrence: Occurrence) -> Period:
    """The cadence period the occurrence is held in ("monthly:2026-06-01" → June 2026, from
    the day the cadence places it); for an as-needed or unreadable period, the month starting
    on the local day of its scheduled start."""
    frequency, _sep, start_text = occurrence.period.partition(":")
    if frequency in _PERIODIC:
        try:
            start = date.fromisoformat(start_text)
        except ValueError:
            pass
        else:
            return Period(frequency, start, _step(frequency, start, 1))
    day = occurrence.scheduled_start.astimezone(occurrence.engagement.zone).date()
    return Period(Frequency.MONTHLY, day, add_months(day, 1))


def _reported(occurrence: Occurrence) -> Period:
    """The period before the one the review is held in, of the same cadence: it ends when
    the review takes place (the day its cadence places it, before any move off a holiday)."""
    return _held_in(occurrence).shifted(-1)


def review_period(occurrence: Occurrence) -> Period:
    """What the review reports on: the cadence period that ends when it takes place (a
    monthly review on 4 Dec: 4 Nov – 3 Dec; an as-needed one: the month up to its day),
    starting no earlier than the engagement's term (the first review of a term at the term
    start reports an empty period)."""
    period = _reported(occurrence)
    term_start = occurrence.engagement.start_date
    if period.start >= term_start:
        return period
    return Period(period.frequency, min(term_start, period.end), period.end)


def period_bounds(occurrence: Occurrence) -> tuple[date, date]:
    """(first day, day after the last) of the review's period, local to the engagement's zone."""
    period = review_period(occurrence)
    return period.start, period.end


def _midnight(day: date, engagement: Engagement) -> datetime:
    return datetime.combine(day, time(), tzinfo=engagement.zone)


def _iso(moment: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC (the zone a report's readers convert from)."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _hours(minutes: int | Decimal) -> float:
    return round(float(minutes) / 60, 2)


@dataclass
class _CaseRow:
    """A case as known at `as_of`: later answers and resolutions are not known yet."""

    id: int
    subject: str
    kind: str
    severity: int
    received_at: datetime
    response_due_at: datetime
    first_response_at: datetime | None
    ended_at: datetime | None  # resolved (or closed) at
    open_now: bool  # with no known end: open today, or resolved only after `as_of`

    def open_at(self, moment: datetime) -> bool:
        if self.received_at >= moment:
            return False
        if self.ended_at is not None:
            return self.ended_at >= moment
        return self.open_now


def _case_rows(
    engagement: Engagement, since: datetime, period_start: datetime, as_of: datetime
) -> Iterator[_CaseRow]:
    """One query: the cases that can count anywhere in the report (trend window, open at the
    end, due or answered in the period), received by `as_of`."""
    rows = (
        Case.objects.filter(engagement=engagement, received_at__lte=as_of)
        .annotate(ended=Coalesce("resolved_at", "closed_at"))
        .filter(
            Q(received_at__gte=since)
            | Q(ended__isnull=True)
            | Q(ended__gte=since)
            | Q(response_due_at__gte=period_start)
            | Q(first_response_at__gte=period_start)
        )
        .values(
            "id",
            "subject",
            "kind",
            "severity",
            "status",
            "received_at",
            "response_due_at",
            "first_response_at",
            "ended",
        )
    )
    for row in rows:
        first_response_at = row["first_response_at"]
        ended_at = row["ended"]
        known_end = ended_at is not None and ended_at <= as_of
        yield _CaseRow(
            id=row["id"],
            subject=row["subject"],
            kind=row["kind"],
            severity=row["severity"],
            received_at=row["received_at"],
            response_due_at=row["response_due_at"],
            first_response_at=(
                first_response_at
                if first_response_at is not None and first_response_at <= as_of
                else None
            ),
            ended_at=ended_at if known_end else None,
            open_now=row["status"] in Case.OPEN_STATUSES or ended_at is not None,
        )


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def _by(
    cases: Iterable[_CaseRow], key: str, keys: Iterable[Any], opened: set[int], closed: set[int]
) -> list[dict]:
    opened_counts = Counter(getattr(case, key) for case in cases if case.id in opened)
    closed_counts = Counter(getattr(case, key) for case in cases if case.id in closed)
    return [
        {key: value, "opened": opened_counts[value], "closed": closed_counts[value]}
        for value in keys
    ]


def _activity_and_trend(
    cases: list[_CaseRow], windows: list[tuple[datetime, datetime]]
) -> tuple[dict, list[tuple[int, int]]]:
    """Counts of the last window (the review's period) by kind and severity; the trend of all."""
    trend = []
    opened: set[int] = set()
    closed: set[int] = set()
    for start, end in windows:
        opened = {case.id for case in cases if _within(case.received_at, start, end)}
        closed = {case.id for case in cases if _within(case.ended_at, start, end)}
        trend.append((len(opened), len(closed)))
    activity = {
        "opened": len(opened),
        "closed": len(closed),
        "by_kind": _by(cases, "kind", Case.Kind.values, opened, closed),
        "by_severity": _by(cases, "severity", Case.Severity.values, opened, closed),
    }
    return activity, trend


def _open_items(cases: list[_CaseRow], at: datetime) -> dict:
    still_open = sorted(
        (case for case in cases if case.open_at(at)), key=lambda case: (case.received_at, case.id)
    )
    return {
        "at": _iso(at),
        "total": len(still_open),
        "items": [
            {
                "id": case.id,
                "subject": case.subject,
                "kind": case.kind,
                "severity": case.severity,
                "received_at": _iso(case.received_at),
                "age_days": (at - case.received_at).days,
            }
            for case in still_open[:OPEN_ITEMS_LISTED]
        ],
    }


def _resolutions(
    cases: list[_CaseRow], start: datetime, end: datetime, engagement: Engagement
) -> dict:
    resolved = sorted(
        (case for case in cases if _within(case.ended_at, start, end)),
        key=lambda case: (case.ended_at, case.id),
    )
    return {
        "total": len(resolved),
        "items": [
            {
                "id": case.id,
                "subject": case.subject,
                "kind": case.kind,
                "severity": case.severity,
                "resolved_on": cast(datetime, case.ended_at)
                .astimezone(engagement.zone)
                .date()
                .isoformat(),
                "days_to_resolve": round(
                    (cast(datetime, case.ended_at) - case.received_at).total_seconds()
                    / _SECONDS_A_DAY,
                    1,
                ),
            }
            for case in resolved[:RESOLUTIONS_LISTED]
        ],
    }


def _satisfaction(cases: list[_CaseRow], start: datetime, end: datetime, as_of: datetime) -> dict:
    """The customers' ratings (1–5) of the items resolved in the period, as given by `as_of`:
    how many were rated, their average (None without any) and how many got each score."""
    resolved = [case.id for case in cases if _within(case.ended_at, start, end)]
    scores = (
        list(
            CaseRating.objects.filter(case_id__in=resolved, rated_at__lte=as_of).values_list(
                "score", flat=True
            )
        )
        if resolved
        else []
    )
    counts = Counter(scores)
    return {
        "resolved": len(resolved),
        "rated": len(scores),
        "average": round(statistics.fmean(scores), 2) if scores else None,
        "by_score": {
            str(score): counts[score]
            for score in range(CaseRating.SCORE_MIN, CaseRating.SCORE_MAX + 1)
        },
    }


def _response(
    cases: list[_CaseRow],
    start: datetime,
    end: datetime,
    as_of: datetime,
    engagement: Engagement,
) -> dict:
    """Attainment over items due in the period (and by `as_of`); the median first response in
    business hours over items first answered in the period."""
    due = [
        case
        for case in cases
        if _within(case.response_due_at, start, end) and case.response_due_at <= as_of
    ]
    met = sum(
        1
        for case in due
        if case.first_response_at is not None and case.first_response_at <= case.response_due_at
    )
    answered = [case for case in cases if _within(case.first_response_at, start, end)]
    median = None
    if answered:
        calendar = engagement_calendar(
            engagement,
            years=range(
                min(engagement.start_date.year, start.year - 1),
                max(engagement.end_date.year, end.year) + 1,
            ),
        )
        median = round(
            statistics.median(
                business_time_between(
                    calendar, case.received_at, cast(datetime, case.first_response_at)
                )
                / timedelta(hours=1)
                for case in answered
            ),
            2,
        )
    return {
        "due": len(due),
        "met": met,
        "missed": len(due) - met,
        "attainment_pct": round(100 * met / len(due), 1) if due else None,
        "answered": len(answered),
        "median_first_response_hours": median,
    }


def _hours_per_week(engagement: Engagement, period: Period) -> dict:
    """Minutes logged per ISO week for the weeks overlapping the period, against the cap."""
    cap_minutes = int(engagement.plan.weekly_hours_cap * 60)
    if period.end <= period.start:  # empty: the first review, held at the term's start
        return {"cap_hours": _hours(cap_minutes), "weeks": []}
    mondays = []
    monday = week_start(period.start)
    while monday < period.end:
        mondays.append(monday)
        monday += timedelta(weeks=1)
    rows = (
        TimeEntry.objects.filter(engagement=engagement, date__gte=mondays[0], date__lt=monday)
        .values("date")
        .annotate(total=Sum("minutes"))
    )
    per_week: Counter[date] = Counter()
    for row in rows:
        per_week[week_start(row["date"])] += row["total"]
    return {
        "cap_hours": _hours(cap_minutes),
        "weeks": [
            {
                "week_start": monday.isoformat(),
                "minutes": per_week[monday],
                "hours": _hours(per_week[monday]),
                "over_cap": per_week[monday] > cap_minutes,
            }
            for monday in mondays
        ],
    }


def _deliverables(
    engagement: Engagement, start: datetime, end: datetime, as_of: datetime
) -> list[dict]:
    """Per deliverable: occurrences scheduled in the period (not cancelled), and of those the
    ones completed (by `as_of`) and missed."""
    rows = list(
        Occurrence.objects.filter(
            engagement=engagement, scheduled_start__gte=start, scheduled_start__lt=end
        )
        .exclude(status=Occurrence.Status.CANCELLED)
        .values("deliverable")
        .annotate(
            scheduled=Count("id"),
            completed=Count(
                "id",
                filter=Q(status=Occurrence.Status.COMPLETED, completed_at__lte=as_of),
            ),
            missed=Count("id", filter=Q(status=Occurrence.Status.MISSED)),
        )
        .order_by("deliverable")
    )
    names = function_names_by_language([row["deliverable"] for row in rows]) if rows else {}
    language = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return [
        {
            "deliverable": row["deliverable"],
            # As built (kept for readers of older snapshots), and in every language.
            "name": names.get(row["deliverable"], {}).get(language, ""),
            "names": names.get(row["deliverable"], {}),
            "scheduled": row["scheduled"],
            "completed": row["completed"],
            "missed": row["missed"],
        }
        for row in rows
    ]


def _overage_flags(
    engagement: Engagement, start: datetime, end: datetime, as_of: datetime
) -> list[dict]:
    """Flags raised in the period or still open during it."""
    flags = OverageFlag.objects.filter(engagement=engagement, raised_at__lt=min(end, as_of)).filter(
        Q(cleared_at__isnull=True) | Q(cleared_at__gte=start) | Q(cleared_at__gt=as_of)
    )
    return [
        {
            "raised_at": _iso(flag.raised_at),
            "cleared_at": (
                _iso(flag.cleared_at)
                if flag.cleared_at is not None and flag.cleared_at <= as_of
                else None
            ),
            "average_hours": _hours(flag.average_minutes),
            "cap_hours": _hours(flag.cap_minutes),
        }
        for flag in flags.order_by("raised_at", "id")
    ]


def for_audience(data: dict, *, provider: bool) -> dict:
    """The report as its reader may see it. The weekly-hours budget and the overage flags
    ("additional contract recommended") are the provider's commercial signals: admins and the
    engagement's manager and deputy see them; customers see the hours delivered only. Applied
    when a report is read, so a frozen snapshot keeps every figure."""
    if provider:
        return data
    redacted = dict(data)
    if "overage_flags" in redacted:
        redacted["overage_flags"] = []
    hours = redacted.get("hours")
    if isinstance(hours, dict):
        redacted["hours"] = {key: value for key, value in hours.items() if key != "cap_hours"}
        redacted["hours"]["weeks"] = [
            {key: value for key, value in week.items() if key != "over_cap"}
            for week in hours.get("weeks", [])
        ]
    return redacted


def build_report(occurrence: Occurrence, *, as_of: datetime) -> dict:
    """Figures of the review's period as known at `as_of`, as JSON-ready data."""
    engagement = occurrence.engagement
    period = review_period(occurrence)
    # Earlier periods step back from the full cadence period, not from one cut at the term start.
    reported = _reported(occurrence)
    periods = [reported.shifted(-back) for back in range(TREND_PERIODS, 0, -1)] + [period]
    windows = [
        (_midnight(each.start, engagement), _midnight(each.end, engagement)) for each in periods
    ]
    start, end = windows[-1]
    cases = list(_case_rows(engagement, windows[0][0], start, as_of))
    activity, trend = _activity_and_trend(cases, windows)
    return {
        "version": REPORT_VERSION,
        "meta": {
            "engagement_id": engagement.pk,
            "engagement": str(engagement),
            "engagement_slug": slugify(str(engagement)) or f"engagement-{engagement.pk}",
            "organization": engagement.organization.name,
            "plan": engagement.plan.display_name,
            "plan_names": engagement.plan.names,
            "timezone": engagement.timezone,
            "period_frequency": period.frequency,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "period_last_day": period.last_day.isoformat(),
            "period_label": period.label,
            "as_of": _iso(as_of),
            "generated_at": _iso(timezone.now()),
        },
        "activity": activity,
        "trend": [
            {
                "start": each.start.isoformat(),
                "last_day": each.last_day.isoformat(),
                "opened": opened,
                "closed": closed,
            }
            for each, (opened, closed) in zip(periods, trend, strict=True)
        ],
        "open_items": _open_items(cases, min(end, as_of)),
        "resolutions": _resolutions(cases, start, end, engagement),
        "response": _response(cases, start, end, as_of, engagement),
        "satisfaction": _satisfaction(cases, start, end, as_of),
        "hours": _hours_per_week(engagement, period),
        "deliverables": _deliverables(engagement, start, end, as_of),
        "overage_flags": _overage_flags(engagement, start, end, as_of),
        "high_risks": _high_risks(engagement),
        "fix_requests": _fix_requests(engagement),
    }


def _high_risks(engagement: Engagement) -> list[dict]:
    """Risks above the report threshold (where the plan includes risk mitigation)."""
    from cases.risks.selectors import high_risks

    return [
        {
            "id": risk.pk,
            "title": risk.title,
            "score": risk.score,
            "status": risk.status,
            "owner": str(risk.owner) if risk.owner else "",
            "next_review_date": risk.next_review_date.isoformat()
            if risk.next_review_date
            else None,
        }
        for risk in high_risks([engagement.pk])
    ]


def _fix_requests(engagement: Engagement) -> dict:
    """The customer's ranking of open fix requests and the vendor's statuses."""
    from cases.fixes.selectors import fix_requests_for_report

    fixes = fix_requests_for_report(engagement)

    def row(fix: FixRequest) -> dict:
        return {
            "id": fix.pk,
            "title": fix.title,
            "rank": fix.customer_rank,
            "vendor_status": fix.vendor_status,
            "target_release": fix.target_release,
        }

    return {
        "ranked": [row(fix) for fix in fixes.ranked],
        "closed": [row(fix) for fix in fixes.closed],
        "by_status": fixes.by_status,
    }


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula: a leading = + - @ tab or CR gets an
    apostrophe in front (OWASP "CSV injection")."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def report_csv_rows(data: dict) -> list[tuple[str, str, str]]:
    """The report as (section, key, value) rows, every cell passed through csv_safe. A listed
    item or flag is a section of its own ("open_item:12"), one row per field."""
    rows: list[tuple[str, Any, Any]] = [("meta", key, value) for key, value in data["meta"].items()]
    activity = data["activity"]
    rows += [("activity", "opened", activity["opened"]), ("activity", "closed", activity["closed"])]
    for row in activity["by_kind"]:
        rows.append(("opened_by_kind", row["kind"], row["opened"]))
        rows.append(("closed_by_kind", row["kind"], row["closed"]))
    for row in activity["by_severity"]:
        rows.append(("opened_by_severity", row["severity"], row["opened"]))
        rows.append(("closed_by_severity", row["severity"], row["closed"]))
    for row in data["trend"]:
        rows.append(("trend_opened", row["start"], row["opened"]))
        rows.append(("trend_closed", row["start"], row["closed"]))
    for listing, section in (("open_items", "open_item"), ("resolutions", "resolution")):
        rows.append((listing, "total", data[listing]["total"]))
        for item in data[listing]["items"]:
            rows += [(f"{section}:{item['id']}", key, value) for key, value in item.items()]
    rows += [("response", key, value) for key, value in data["response"].items()]
    satisfaction = data.get("satisfaction")  # absent from reports frozen before ratings
    if satisfaction:
        rows += [
            ("satisfaction", key, satisfaction[key]) for key in ("resolved", "rated", "average")
        ]
        rows += [
            ("satisfaction_score", score, count)
            for score, count in satisfaction["by_score"].items()
        ]
    hours = data["hours"]
    if "cap_hours" in hours:  # the provider's budget (see for_audience)
        rows.append(("hours", "cap_hours", hours["cap_hours"]))
    for week in hours["weeks"]:
        rows.append(("hours_week", week["week_start"], week["hours"]))
        if "over_cap" in week:
            rows.append(("hours_over_cap", week["week_start"], week["over_cap"]))
    for row in data["deliverables"]:
        for key in ("scheduled", "completed", "missed"):
            rows.append((f"deliverable_{key}", row["deliverable"], row[key]))
    for number, flag in enumerate(data["overage_flags"], start=1):
        rows += [(f"overage_flag:{number}", key, value) for key, value in flag.items()]
    return [(csv_safe(section), csv_safe(key), csv_safe(value)) for section, key, value in rows]
