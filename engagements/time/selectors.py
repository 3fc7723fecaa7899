"""Time entries and the weekly hours budget: reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Sum

from engagements.afterhours.models import AfterHoursRequest
from engagements.contracts.models import (
    Engagement,
)
from engagements.time.models import TimeEntry
from portal.tenancy.scoping import rows_compiled_once

if TYPE_CHECKING:

    class _UpcomingWindows(TypedDict):  # Prefetch(to_attr=) of the dashboard cards
        upcoming_windows: list[AfterHoursRequest]


def week_start(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


# Of the trailing 4 full weeks, how many must be over the cap (besides the average) for the
# overage flag, "additional contract recommended".
OVERAGE_MIN_WEEKS_OVER_CAP = 3


@dataclass(frozen=True)
class HoursSummary:
    this_week_minutes: int
    trailing_weeks: list[tuple[date, int]]  # (Monday, minutes), oldest first, full weeks only
    cap_minutes: int

    @property
    def trailing_average_minutes(self) -> int:
        if not self.trailing_weeks:
            return 0
        return round(
            sum(minutes for _week, minutes in self.trailing_weeks) / len(self.trailing_weeks)
        )

    @property
    def over_cap(self) -> bool:
        return self.trailing_average_minutes > self.cap_minutes

    @property
    def weeks_over_cap(self) -> int:
        """Full weeks of the last four over the cap."""
        return sum(1 for _week, minutes in self.trailing_weeks[-4:] if minutes > self.cap_minutes)

    @property
    def persistently_over_cap(self) -> bool:
        """ "Consistently and persistently" over: the last 4 full weeks average above the cap
        and at least 3 of them were over it, so a single spike recommends nothing."""
        return self.over_cap and self.weeks_over_cap >= OVERAGE_MIN_WEEKS_OVER_CAP


def hours_summary(
    engagement: Engagement, today: date | None = None, weeks: int = 4
) -> HoursSummary:
    """This week's minutes and the trailing `weeks` full weeks before it, in one query."""
    today = today or engagement.local_today()
    current = week_start(today)
    first = current - timedelta(weeks=weeks)
    rows = (
        TimeEntry.objects.filter(
            engagement=engagement, date__gte=first, date__lt=current + timedelta(days=7)
        )
        .values("date")
        .annotate(total=Sum("minutes"))
    )
    per_week: dict[date, int] = {}
    for row in rows:
        monday = week_start(row["date"])
        per_week[monday] = per_week.get(monday, 0) + row["total"]
    trailing = [
        (first + timedelta(weeks=n), per_week.get(first + timedelta(weeks=n), 0))
        for n in range(weeks)
    ]
    return HoursSummary(
        this_week_minutes=per_week.get(current, 0),
        trailing_weeks=trailing,
        cap_minutes=int(engagement.plan.weekly_hours_cap * 60),
    )


def hours_summaries(engagements: Sequence[Engagement], weeks: int = 4) -> dict[int, HoursSummary]:
    """hours_summary for many engagements in one aggregate query (each in its own zone)."""
    if not engagements:
        return {}
    currents = {engagement.pk: week_start(engagement.local_today()) for engagement in engagements}
    first = min(currents.values()) - timedelta(weeks=weeks)
    # Compiled once (`rows_compiled_once`): the board and the dashboard read it every request.
    rows = rows_compiled_once(
        "time.hours_summaries",
        lambda values: (
            TimeEntry.objects.filter(
                engagement_id__in=values[:-2], date__gte=values[-2], date__lt=values[-1]
            )
            .values("engagement", "date")
            .annotate(total=Sum("minutes"))
            .order_by()
        ),
        [*currents, first, max(currents.values()) + timedelta(days=7)],
    )
    per_week: dict[tuple[int, date], int] = defaultdict(int)
    for row in rows:
        per_week[(row["engagement"], week_start(row["date"]))] += row["total"]
    summaries = {}
    for engagement in engagements:
        current = currents[engagement.pk]
        start = current - timedelta(weeks=weeks)
        summaries[engagement.pk] = HoursSummary(
            this_week_minutes=per_week.get((engagement.pk, current), 0),
            trailing_weeks=[
                (monday, per_week.get((engagement.pk, monday), 0))
                for monday in (start + timedelta(weeks=n) for n in range(weeks))
            ],
            cap_minutes=int(engagement.plan.weekly_hours_cap * 60),
        )
    return summaries
