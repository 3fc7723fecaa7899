"""Times for requested sessions, found on the engagement's own calendar so a test does not
depend on the weekday or the holidays around the day it runs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from engagements.selectors import engagement_calendar


def business_day(engagement, *, days_ahead: int = 14) -> date:
    """The first open weekday, not a holiday, at least `days_ahead` days from today."""
    calendar = engagement_calendar(engagement, with_after_hours=False)
    day = engagement.local_today() + timedelta(days=days_ahead)
    while calendar.hours[day.weekday()] is None or day in calendar.holidays:
        day += timedelta(days=1)
    return day


def next_weekday(engagement, weekday: int, *, days_ahead: int = 14) -> date:
    """The first `weekday` (Monday 0) at least `days_ahead` days from today."""
    day = engagement.local_today() + timedelta(days=days_ahead)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def local(engagement, day: date, at: time) -> datetime:
    """`day` at the wall-clock time `at` in the engagement's zone."""
    return datetime.combine(day, at, tzinfo=engagement.zone)


def business_slot(engagement, *, days_ahead: int = 14, at: time = time(14, 30)) -> datetime:
    return local(engagement, business_day(engagement, days_ahead=days_ahead), at)
