"""Business time (SPEC §4 "Business time, exactly"): examples, DST, holidays, hours, properties."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engagements.business_time import (
    DEFAULT_HOURS,
    BusinessCalendar,
    add_business_days,
    add_business_time,
    business_intervals,
    business_time_between,
    country_holidays,
    is_business_time,
    next_opening,
)

ZONES = ("Asia/Seoul", "Europe/Berlin", "America/New_York", "UTC")
H = timedelta(hours=1)
US = timedelta(microseconds=1)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SEOUL = ZoneInfo("Asia/Seoul")


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


def local(zone: ZoneInfo, moment: datetime) -> datetime:
    """The local wall-clock reading of ``moment`` as a naive datetime (for comparisons)."""
    return moment.astimezone(zone).replace(tzinfo=None)


# --- SPEC §4 examples ------------------------------------------------------------------------

# Two reference weeks (winter and summer offsets); each entry is the date of its Monday.
WEEKS = (date(2026, 1, 12), date(2026, 6, 8))
DAY = {"Mon": 0, "Tue": 1, "Wed": 2, "Thu": 3, "Fri": 4, "Sat": 5, "Sun": 6, "Mon+": 7, "Tue+": 8}

SPEC_EXAMPLES = [
    # (days, received, due, next Monday a holiday)
    (1, ("Tue", time(10)), ("Wed", time(10)), False),
    (1, ("Fri", time(16)), ("Mon+", time(16)), False),
    (1, ("Wed", time(18, 30)), ("Thu", time(17)), False),
    (2, ("Sat", time(11)), ("Tue+", time(17)), False),
    (2, ("Mon", time(8)), ("Tue", time(17)), False),
    (1, ("Fri", time(16)), ("Tue+", time(16)), True),
]


@pytest.mark.parametrize("zone_name", ZONES)
@pytest.mark.parametrize("monday", WEEKS, ids=str)
@pytest.mark.parametrize(("days", "received", "due", "monday_holiday"), SPEC_EXAMPLES)
def test_spec_examples(
    zone_name: str,
    monday: date,
    days: int,
    received: tuple[str, time],
    due: tuple[str, time],
    monday_holiday: bool,
) -> None:
    zone = ZoneInfo(zone_name)
    next_monday = monday + timedelta(days=7)
    calendar = BusinessCalendar(
        zone, holidays=frozenset({next_monday}) if monday_holiday else frozenset()
    )
    start = datetime.combine(monday + timedelta(days=DAY[received[0]]), received[1], tzinfo=zone)
    expected = datetime.combine(monday + timedelta(days=DAY[due[0]]), due[1], tzinfo=zone)

    result = add_business_days(calendar, start, days)

    assert result == expected
    assert result.utcoffset() == timedelta(0)  # returned in UTC
    assert local(zone, result) == expected.replace(tzinfo=None)
    assert business_time_between(calendar, start, result) == days * 8 * H


def test_default_calendar_and_day_length() -> None:
    calendar = BusinessCalendar(ZoneInfo("UTC"))
    assert calendar.hours == DEFAULT_HOURS
    assert calendar.business_day_length == 8 * H
    assert calendar.holidays == frozenset()
    assert calendar.extra_windows == ()


def test_fractional_and_decimal_days() -> None:
    calendar = BusinessCalendar(BERLIN)
    start = at(BERLIN, 2026, 6, 9, 10)
    assert add_business_days(calendar, start, 0.5) == at(BERLIN, 2026, 6, 9, 14)
    assert add_business_days(calendar, start, Decimal("1.5")) == at(BERLIN, 2026, 6, 10, 14)
    assert add_business_days(calendar, start, 0) == start
    with pytest.raises(ValueError):
        add_business_days(calendar, start, -1)
    with pytest.raises(ValueError):
        add_business_days(calendar, start, float("nan"))
    with pytest.raises(TypeError):
        add_business_days(calendar, start, "1")  # type: ignore[arg-type]


def test_zero_amount_is_next_opening() -> None:
    calendar = BusinessCalendar(BERLIN)
    inside = at(BERLIN, 2026, 6, 9, 10)
    assert add_business_time(calendar, inside, timedelta(0)) == inside
    evening = at(BERLIN, 2026, 6, 9, 17)  # closing instant is not business time
    assert not is_business_time(calendar, evening)
    assert add_business_time(calendar, evening, timedelta(0)) == at(BERLIN, 2026, 6, 10, 9)
    with pytest.raises(ValueError):
        add_business_time(calendar, inside, -US)


def test_is_business_time_and_next_opening() -> None:
    calendar = BusinessCalendar(SEOUL)
    assert is_business_time(calendar, at(SEOUL, 2026, 6, 9, 9))
    assert is_business_time(calendar, at(SEOUL, 2026, 6, 9, 16, 59, 59, 999999))
    assert not is_business_time(calendar, at(SEOUL, 2026, 6, 9, 17))
    assert not is_business_time(calendar, at(SEOUL, 2026, 6, 13, 12))  # Saturday
    assert next_opening(calendar, at(SEOUL, 2026, 6, 9, 12)) == at(SEOUL, 2026, 6, 9, 12)
    assert next_opening(calendar, at(SEOUL, 2026, 6, 12, 17)) == at(SEOUL, 2026, 6, 15, 9)
    # Another zone's instant is judged in the calendar's zone: 01:00 UTC is 10:00 in Seoul.
    assert is_business_time(calendar, datetime(2026, 6, 9, 1, tzinfo=UTC))


def test_business_intervals_are_merged_ordered_utc() -> None:
    calendar = BusinessCalendar(BERLIN)
    got = list(business_intervals(calendar, at(BERLIN, 2026, 6, 9, 12), at(BERLIN, 2026, 6, 15)))
    assert got == [
        (datetime(2026, 6, 9, 10, tzinfo=UTC), datetime(2026, 6, 9, 15, tzinfo=UTC)),
        (datetime(2026, 6, 10, 7, tzinfo=UTC), datetime(2026, 6, 10, 15, tzinfo=UTC)),
        (datetime(2026, 6, 11, 7, tzinfo=UTC), datetime(2026, 6, 11, 15, tzinfo=UTC)),
        (datetime(2026, 6, 12, 7, tzinfo=UTC), datetime(2026, 6, 12, 15, tzinfo=UTC)),
    ]
    assert list(business_intervals(calendar, at(BERLIN, 2026, 6, 15), at(BERLIN, 2026, 6, 9))) == []


def test_long_spans_cross_internal_blocks() -> None:
    calendar = BusinessCalendar(ZoneInfo("UTC"))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2029, 1, 1, tzinfo=UTC)
    weekdays = sum(
        1 for n in range((end - start).days) if (start + timedelta(days=n)).weekday() < 5
    )
    assert business_time_between(calendar, start, end) == weekdays * 8 * H
    assert add_business_days(calendar, start, weekdays) == datetime(2028, 12, 29, 17, tzinfo=UTC)
    intervals = list(business_intervals(calendar, start, end))
    assert len(intervals) == weekdays
    assert sum((b - a for a, b in intervals), timedelta()) == weekdays * 8 * H


# --- Daylight saving time --------------------------------------------------------------------

DST_DAYS = [
    # (zone, switch Sunday, Monday after)
    (BERLIN, date(2026, 3, 29)),
    (NEW_YORK, date(2026, 3, 8)),
    (BERLIN, date(2026, 10, 25)),
    (NEW_YORK, date(2026, 11, 1)),
]


@pytest.mark.parametrize(("zone", "sunday"), DST_DAYS, ids=lambda v: str(v))
def test_dst_days_have_eight_business_hours(zone: ZoneInfo, sunday: date) -> None:
    monday = sunday + timedelta(days=1)
    weekdays = BusinessCalendar(zone)
    day_start = datetime.combine(monday, time(0), tzinfo=zone)
    day_end = datetime.combine(monday + timedelta(days=1), time(0), tzinfo=zone)
    assert business_time_between(weekdays, day_start, day_end) == 8 * H

    every_day = BusinessCalendar(zone, hours=((time(9), time(17)),) * 7)
    switch_start = datetime.combine(sunday, time(0), tzinfo=zone)
    switch_end = datetime.combine(monday, time(0), tzinfo=zone)
    assert switch_start.utcoffset() != switch_end.utcoffset()  # really a switch day
    assert business_time_between(every_day, switch_start, switch_end) == 8 * H
    ((opening, closing),) = business_intervals(every_day, switch_start, switch_end)
    assert local(zone, opening).time() == time(9)
    assert local(zone, closing).time() == time(17)


@pytest.mark.parametrize(("zone", "sunday"), DST_DAYS, ids=lambda v: str(v))
def test_due_dates_across_dst_switch_are_local(zone: ZoneInfo, sunday: date) -> None:
    calendar = BusinessCalendar(zone)
    friday = sunday - timedelta(days=2)
    received = datetime.combine(friday, time(16), tzinfo=zone)
    due = add_business_days(calendar, received, 1)
    assert local(zone, due) == datetime.combine(sunday + timedelta(days=1), time(16))
    # Real elapsed time differs from 72 h by the switch, business time does not.
    assert due - received != 72 * H
    assert business_time_between(calendar, received, due) == 8 * H
    due2 = add_business_days(calendar, datetime.combine(friday, time(18), tzinfo=zone), 2)
    assert local(zone, due2) == datetime.combine(sunday + timedelta(days=2), time(17))


def test_wall_clock_edges_on_switch_days() -> None:
    """Windows touching the switch hour: gap times shift forward; ambiguous close is the last."""
    night = BusinessCalendar(BERLIN, hours=((time(1), time(4)),) * 7)
    # Spring forward 2026-03-29 02:00 -> 03:00: 01:00 CET .. 04:00 CEST is 2 h of real time.
    spring = list(business_intervals(night, at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30)))
    assert spring == [
        (datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, tzinfo=UTC)),
    ]
    # Fall back 2026-10-25 03:00 -> 02:00: 01:00 CEST .. 04:00 CET is 4 h of real time.
    fall = list(business_intervals(night, at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26)))
    assert fall == [
        (datetime(2026, 10, 24, 23, tzinfo=UTC), datetime(2026, 10, 25, 3, tzinfo=UTC)),
    ]
    # A non-existent opening (02:30 on the spring day) opens at 03:30 CEST (shifted by the gap).
    gap = BusinessCalendar(BERLIN, hours=((time(2, 30), time(5)),) * 7)
    assert next_opening(gap, at(BERLIN, 2026, 3, 29, 0)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # An ambiguous closing (02:30 on the fall day) is its second occurrence (02:30 CET).
    ambiguous = BusinessCalendar(BERLIN, hours=((time(1), time(2, 30)),) * 7)
    assert list(
        business_intervals(ambiguous, at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26))
    ) == [(datetime(2026, 10, 24, 23, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC))]


# --- Holidays --------------------------------------------------------------------------------


def test_country_holidays_from_the_holidays_package() -> None:
    kr = country_holidays("KR", [2026])
    assert {date(2026, 9, 24), date(2026, 9, 25), date(2026, 9, 26)} <= kr  # Chuseok
    assert date(2026, 10, 3) in country_holidays("DE", [2026])  # German Unity Day
    assert date(2026, 11, 26) in country_holidays("US", (2026,))  # Thanksgiving
    assert country_holidays("de", iter([2026])) == country_holidays("DE", [2026])
    assert country_holidays("DE", [2026]) is country_holidays("DE", [2026])  # cached
    assert date(2026, 1, 6) in country_holidays("DE", [2026], subdiv="BY")  # Epiphany (Bavaria)
    assert date(2026, 1, 6) not in country_holidays("DE", [2026])
    assert all(day.year in (2025, 2026) for day in country_holidays("US", [2025, 2026]))


@pytest.mark.parametrize("code", ["XX", "", "Korea"])
def test_unknown_country_raises_value_error(code: str) -> None:
    with pytest.raises(ValueError):
        country_holidays(code, [2026])


def test_unknown_subdivision_raises_value_error() -> None:
    with pytest.raises(ValueError):
        country_holidays("DE", [2026], subdiv="ZZ")


def test_chuseok_in_seoul() -> None:
    calendar = BusinessCalendar(SEOUL, holidays=country_holidays("KR", [2026]))
    received = at(SEOUL, 2026, 9, 23, 10)  # Wednesday before Chuseok (Thu-Sat)
    assert add_business_days(calendar, received, 1) == at(SEOUL, 2026, 9, 28, 10)


def test_easter_in_berlin() -> None:
    calendar = BusinessCalendar(BERLIN, holidays=country_holidays("DE", [2026]))
    received = at(BERLIN, 2026, 4, 2, 16)  # Maundy Thursday; Good Friday and Easter Monday off
    assert add_business_days(calendar, received, 1) == at(BERLIN, 2026, 4, 7, 16)


def test_thanksgiving_and_admin_added_dates_in_new_york() -> None:
    us = country_holidays("US", [2026])
    received = at(NEW_YORK, 2026, 11, 25, 10)
    assert add_business_days(BusinessCalendar(NEW_YORK, holidays=us), received, 1) == at(
        NEW_YORK, 2026, 11, 27, 10
    )
    bridge = BusinessCalendar(NEW_YORK, holidays=us | {date(2026, 11, 27)})  # admin-added
    assert add_business_days(bridge, received, 1) == at(NEW_YORK, 2026, 11, 30, 10)
    assert not is_business_time(bridge, at(NEW_YORK, 2026, 11, 27, 12))


def test_holidays_are_local_dates() -> None:
    # A Seoul holiday blocks Seoul's local day, which starts at 15:00 UTC the evening before.
    calendar = BusinessCalendar(SEOUL, holidays=frozenset({date(2026, 6, 10)}))
    assert not is_business_time(calendar, datetime(2026, 6, 10, 1, tzinfo=UTC))
    assert is_business_time(calendar, datetime(2026, 6, 11, 0, tzinfo=UTC))


# --- Custom hours ----------------------------------------------------------------------------

SUN_THU = ((time(8), time(16)),) * 4 + (None, None, (time(8), time(16)))
HALF_FRIDAY = ((time(9), time(17)),) * 4 + ((time(10), time(14)), None, None)


def test_sunday_to_thursday_week() -> None:
    riyadh = ZoneInfo("Asia/Riyadh")
    calendar = BusinessCalendar(riyadh, hours=SUN_THU)
    assert calendar.business_day_length == 8 * H
    received = at(riyadh, 2026, 6, 11, 15)  # Thursday
    assert add_business_days(calendar, received, 1) == at(riyadh, 2026, 6, 14, 15)  # Sunday
    assert is_business_time(calendar, at(riyadh, 2026, 6, 14, 8))
    assert not is_business_time(calendar, at(riyadh, 2026, 6, 12, 12))  # Friday


def test_half_day_friday() -> None:
    calendar = BusinessCalendar(BERLIN, hours=HALF_FRIDAY)
    assert calendar.business_day_length == 8 * H  # the most common length
    received = at(BERLIN, 2026, 6, 11, 16)  # Thu: 1 h, Fri: 4 h, Mon: 3 h
    assert add_business_days(calendar, received, 1) == at(BERLIN, 2026, 6, 15, 12)
    week = business_time_between(calendar, at(BERLIN, 2026, 6, 8), at(BERLIN, 2026, 6, 15))
    assert week == 36 * H


def test_business_day_length_most_common_with_longer_on_tie() -> None:
    mostly_short = ((time(9), time(13)),) * 3 + ((time(9), time(17)),) * 2 + (None, None)
    assert BusinessCalendar(BERLIN, hours=mostly_short).business_day_length == 4 * H
    tie = ((time(9), time(15)),) * 2 + ((time(8), time(17)),) * 2 + (None,) * 3
    assert BusinessCalendar(BERLIN, hours=tie).business_day_length == 9 * H
    assert BusinessCalendar(BERLIN, hours=(None,) * 7).business_day_length == timedelta(0)


@pytest.mark.parametrize(
    "hours",
    [
        DEFAULT_HOURS[:6],
        (*DEFAULT_HOURS, None),
        ((time(17), time(9)), *DEFAULT_HOURS[1:]),  # overnight
        ((time(9), time(9)), *DEFAULT_HOURS[1:]),  # empty
        ((time(9, tzinfo=UTC), time(17)), *DEFAULT_HOURS[1:]),
        (("09:00", "17:00"), *DEFAULT_HOURS[1:]),
    ],
)
def test_invalid_hours_raise(hours: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(BERLIN, hours=hours)


def test_invalid_holidays_and_zone_raise() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(BERLIN, holidays=frozenset({datetime(2026, 1, 1, tzinfo=UTC)}))
    with pytest.raises(ValueError):
        BusinessCalendar("Europe/Berlin")  # type: ignore[arg-type]


def test_calendars_are_hashable_and_compare_by_value() -> None:
    one = BusinessCalendar(BERLIN, hours=list(HALF_FRIDAY), holidays={date(2026, 1, 1)})  # type: ignore[arg-type]
    two = BusinessCalendar(BERLIN, hours=HALF_FRIDAY, holidays=frozenset({date(2026, 1, 1)}))
    assert one == two
    assert hash(one) == hash(two)
    assert one != BusinessCalendar(BERLIN)


# --- Extra (after-hours) windows -------------------------------------------------------------


def test_saturday_window_counts_as_business_time() -> None:
    window = (at(BERLIN, 2026, 6, 13, 10), at(BERLIN, 2026, 6, 13, 14))
    calendar = BusinessCalendar(BERLIN, extra_windows=(window,))
    assert is_business_time(calendar, at(BERLIN, 2026, 6, 13, 11))
    assert not is_business_time(calendar, at(BERLIN, 2026, 6, 13, 14))
    assert next_opening(calendar, at(BERLIN, 2026, 6, 12, 18)) == window[0]
    # Fri 16:00 + 1 day: Fri 1 h, Sat 4 h (window), Mon 3 h.
    assert add_business_days(calendar, at(BERLIN, 2026, 6, 12, 16), 1) == at(
        BERLIN, 2026, 6, 15, 12
    )


def test_overlapping_window_does_not_double_count() -> None:
    window = (at(BERLIN, 2026, 6, 12, 15), at(BERLIN, 2026, 6, 12, 19))
    calendar = BusinessCalendar(BERLIN, extra_windows=(window,))
    friday = (at(BERLIN, 2026, 6, 12), at(BERLIN, 2026, 6, 13))
    assert business_time_between(calendar, *friday) == 10 * H
    assert list(business_intervals(calendar, *friday)) == [
        (datetime(2026, 6, 12, 7, tzinfo=UTC), datetime(2026, 6, 12, 17, tzinfo=UTC)),
    ]
    assert is_business_time(calendar, at(BERLIN, 2026, 6, 12, 18))


def test_touching_window_merges_with_normal_hours() -> None:
    window = (at(BERLIN, 2026, 6, 12, 17), at(BERLIN, 2026, 6, 12, 19))
    calendar = BusinessCalendar(BERLIN, extra_windows=(window,))
    friday = (at(BERLIN, 2026, 6, 12), at(BERLIN, 2026, 6, 13))
    assert list(business_intervals(calendar, *friday)) == [
        (datetime(2026, 6, 12, 7, tzinfo=UTC), datetime(2026, 6, 12, 17, tzinfo=UTC)),
    ]
    assert is_business_time(calendar, at(BERLIN, 2026, 6, 12, 17))
    assert add_business_time(calendar, at(BERLIN, 2026, 6, 12, 16), 2 * H) == at(
        BERLIN, 2026, 6, 12, 18
    )


def test_long_window_spanning_many_days_is_one_interval() -> None:
    # 400 days of approved coverage on an otherwise closed calendar: one merged interval, even
    # though the implementation caches business time in blocks of fewer days.
    start, end = at(BERLIN, 2026, 1, 1), at(BERLIN, 2027, 2, 5)
    calendar = BusinessCalendar(BERLIN, hours=(None,) * 7, extra_windows=((start, end),))
    assert list(business_intervals(calendar, start - H, end + H)) == [(start, end)]
    assert business_time_between(calendar, start - H, end + H) == end - start
    assert add_business_time(calendar, start - H, timedelta(days=300)) == start + timedelta(
        days=300
    )
    assert next_opening(calendar, start + timedelta(days=200)) == start + timedelta(days=200)


def test_windows_in_other_zones_and_holidays() -> None:
    # A UTC-expressed window on a Seoul holiday: 01:00-03:00 UTC = 10:00-12:00 KST.
    window = (datetime(2026, 6, 10, 1, tzinfo=UTC), datetime(2026, 6, 10, 3, tzinfo=UTC))
    calendar = BusinessCalendar(
        SEOUL,
        holidays=frozenset({date(2026, 6, 10)}),
        extra_windows=(window, window),  # duplicates are harmless
    )
    day = (at(SEOUL, 2026, 6, 10), at(SEOUL, 2026, 6, 11))
    assert business_time_between(calendar, *day) == 2 * H
    assert is_business_time(calendar, at(SEOUL, 2026, 6, 10, 11))


def test_invalid_windows_raise() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(
            BERLIN, extra_windows=((datetime(2026, 6, 13, 10), at(BERLIN, 2026, 6, 13, 14)),)
        )
    with pytest.raises(ValueError):
        BusinessCalendar(
            BERLIN, extra_windows=((at(BERLIN, 2026, 6, 13, 14), at(BERLIN, 2026, 6, 13, 14)),)
        )


# --- Errors ----------------------------------------------------------------------------------

NAIVE = datetime(2026, 6, 9, 10)
AWARE = at(BERLIN, 2026, 6, 9, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: is_business_time(c, NAIVE),
        lambda c: next_opening(c, NAIVE),
        lambda c: business_time_between(c, NAIVE, AWARE),
        lambda c: business_time_between(c, AWARE, NAIVE),
        lambda c: business_intervals(c, NAIVE, AWARE),
        lambda c: business_intervals(c, AWARE, NAIVE),
        lambda c: add_business_time(c, NAIVE, H),
        lambda c: add_business_days(c, NAIVE, 1),
    ],
)
def test_naive_datetimes_raise_value_error(call: Callable[[BusinessCalendar], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(BusinessCalendar(BERLIN))


def test_calendar_with_no_open_days() -> None:
    closed = BusinessCalendar(BERLIN, hours=(None,) * 7)
    with pytest.raises(ValueError):
        next_opening(closed, AWARE)
    with pytest.raises(ValueError):
        add_business_time(closed, AWARE, H)
    with pytest.raises(ValueError):
        add_business_days(closed, AWARE, 1)
    assert business_time_between(closed, AWARE, AWARE + timedelta(days=30)) == timedelta(0)
    # Only an approved window: that is the one opening.
    window = (at(BERLIN, 2027, 1, 2, 10), at(BERLIN, 2027, 1, 2, 12))
    only_window = BusinessCalendar(BERLIN, hours=(None,) * 7, extra_windows=(window,))
    assert next_opening(only_window, AWARE) == window[0]
    assert add_business_time(only_window, AWARE, H) == window[0] + H
    with pytest.raises(ValueError):
        add_business_time(only_window, AWARE, 3 * H)


# --- Properties ------------------------------------------------------------------------------

HOURS_VARIANTS = (
    DEFAULT_HOURS,
    SUN_THU,
    HALF_FRIDAY,
    ((time(9), time(17)),) * 7,
    ((time(0), time(23, 59)),) * 5 + (None, None),
    ((time(7, 30), time(12)),) * 5 + ((time(13), time(15, 45)),) + (None,),
)
YEARS = range(2025, 2029)
ZONE_INFOS = tuple(ZoneInfo(name) for name in ZONES)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    zone = draw(st.sampled_from(ZONE_INFOS))
    hours = draw(st.sampled_from(HOURS_VARIANTS))
    country = draw(st.sampled_from((None, "KR", "DE", "US")))
    days = country_holidays(country, YEARS) if country else frozenset()
    added = draw(st.frozensets(st.dates(date(2025, 1, 1), date(2028, 12, 31)), max_size=20))
    windows = draw(
        st.lists(
            st.tuples(
                st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31), timezones=st.just(UTC)),
                st.integers(1, 24 * 60),
            ).map(lambda pair: (pair[0], pair[0] + timedelta(minutes=pair[1]))),
            max_size=4,
        )
    )
    return BusinessCalendar(zone, hours=hours, holidays=days | added, extra_windows=tuple(windows))


instants = st.datetimes(
    datetime(2025, 1, 1), datetime(2028, 12, 31), timezones=st.sampled_from(ZONE_INFOS)
)
durations = st.integers(0, 15 * 8 * 60).map(lambda minutes: timedelta(minutes=minutes))

PROPERTY_SETTINGS = settings(
    max_examples=75,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(calendars(), instants, durations, durations)
def test_add_is_monotonic_in_amount(
    calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    small, large = sorted((a, b))
    assert add_business_time(calendar, start, small) <= add_business_time(calendar, start, large)


@PROPERTY_SETTINGS
@given(calendars(), instants, instants, durations)
def test_add_is_monotonic_in_start(
    calendar: BusinessCalendar, t1: datetime, t2: datetime, amount: timedelta
) -> None:
    early, late = sorted((t1, t2))
    assert add_business_time(calendar, early, amount) <= add_business_time(calendar, late, amount)


@PROPERTY_SETTINGS
@given(calendars(), instants, durations, durations)
def test_add_is_additive(
    calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    first = add_business_time(calendar, start, a)
    if b > timedelta(0):
        assert add_business_time(calendar, first, b) == add_business_time(calendar, start, a + b)
    else:
        # Adding nothing moves a closing instant on to the next opening.
        assert add_business_time(calendar, first, b) == next_opening(calendar, first)


@PROPERTY_SETTINGS
@given(calendars(), instants, durations)
def test_between_inverts_add(
    calendar: BusinessCalendar, start: datetime, amount: timedelta
) -> None:
    result = add_business_time(calendar, start, amount)
    assert result >= start
    assert business_time_between(calendar, start, result) == amount
    if amount > timedelta(0):
        # Ends inside business time or exactly at a closing instant.
        assert is_business_time(calendar, result - US)
    else:
        assert result == next_opening(calendar, start)
        assert is_business_time(calendar, result)


@PROPERTY_SETTINGS
@given(calendars(), instants, instants)
def test_add_inverts_between(calendar: BusinessCalendar, start: datetime, until: datetime) -> None:
    """add(t, between(t, u)) == u when u > t and u - 1µs is business time (u is inside business
    time or at a closing instant). Otherwise it is the latest instant r <= max(u, opening) that
    is the opening or ends business time, with no business time between r and u."""
    elapsed = business_time_between(calendar, start, until)
    result = add_business_time(calendar, start, elapsed)
    opening = next_opening(calendar, start)
    if until > start and is_business_time(calendar, until - US):
        assert result == until
    elif elapsed == timedelta(0):
        assert result == opening
    else:
        assert opening < result <= until
        assert is_business_time(calendar, result - US)
        assert business_time_between(calendar, result, until) == timedelta(0)


@PROPERTY_SETTINGS
@given(calendars(), instants, instants, instants)
def test_between_is_additive_over_a_split(
    calendar: BusinessCalendar, t1: datetime, t2: datetime, t3: datetime
) -> None:
    a, b, c = sorted((t1, t2, t3))
    whole = business_time_between(calendar, a, c)
    assert whole == business_time_between(calendar, a, b) + business_time_between(calendar, b, c)
    assert whole == sum(
        (end - begin for begin, end in business_intervals(calendar, a, c)), timedelta()
    )
    assert business_time_between(calendar, c, a) == timedelta(0)


@PROPERTY_SETTINGS
@given(calendars(), instants)
def test_intervals_agree_with_is_business_time(calendar: BusinessCalendar, start: datetime) -> None:
    intervals = list(business_intervals(calendar, start, start + timedelta(days=10)))
    for (_, end), (begin, _) in itertools.pairwise(intervals):
        assert end < begin  # ordered and merged: never touching
    for begin, end in intervals:
        assert begin < end
        assert is_business_time(calendar, begin)
        assert is_business_time(calendar, end - US)
        if end < start + timedelta(days=10):
            assert not is_business_time(calendar, end)
        if begin > start:
            assert not is_business_time(calendar, begin - US)
            assert next_opening(calendar, begin - US) == begin


def reference_add(calendar: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """A slow, independent oracle (local day by local day; no extra windows)."""
    zone = calendar.zone
    day = start.astimezone(zone).date() - timedelta(days=1)
    remaining = amount
    for _ in range(4000):
        hours = calendar.hours[day.weekday()]
        if hours is not None and day not in calendar.holidays:
            opening = datetime.combine(day, hours[0], tzinfo=zone).astimezone(UTC)
            closing = datetime.combine(day, hours[1], tzinfo=zone).astimezone(UTC)
            if closing > start:
                begin = max(opening, start)
                if remaining == timedelta(0):
                    return begin
                if closing - begin >= remaining:
                    return begin + remaining
                remaining -= closing - begin
        day += timedelta(days=1)
    raise AssertionError("no business time found")


@PROPERTY_SETTINGS
@given(calendars(), instants, durations)
def test_add_matches_an_independent_oracle(
    calendar: BusinessCalendar, start: datetime, amount: timedelta
) -> None:
    plain = BusinessCalendar(calendar.zone, hours=calendar.hours, holidays=calendar.holidays)
    assert add_business_time(plain, start, amount) == reference_add(plain, start, amount)
    days = amount // timedelta(minutes=1) % 3
    assert add_business_days(plain, start, days) == reference_add(
        plain, start, days * plain.business_day_length
    )
