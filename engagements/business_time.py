"""Business time for one engagement's calendar (SPEC §4 "Business time, exactly").

Pure functions, no Django imports. Every public function takes and returns timezone-aware
datetimes (results are in UTC) and raises ValueError for naive input.

Model
-----
An instant is business time when either

* its wall-clock reading in the calendar's zone falls in ``[open, close)`` of its local weekday's
  hours and its local date is not a holiday, or
* it lies inside one of the approved ``extra_windows`` (after-hours coverage).

Overlaps are counted once. Each local day's window is built from wall-clock times, so a day on which
daylight saving time changes still has ``close - open`` of business time (09:00-17:00 is 8 h).
Wall-clock edge cases on switch days: an opening or closing time that does not exist (spring-forward
gap) is shifted forward by the gap, as PEP 495 ``fold=0`` does; an ambiguous opening time
(fall-back) is its first occurrence and an ambiguous closing time its last, so the window holds
every instant whose reading lies in ``[open, close)``.

Internally the business intervals are precomputed lazily in blocks of 128 UTC days as integer
microseconds with prefix sums, so each query is a dictionary lookup plus a bisection.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

import holidays as holidays_package

__all__ = [
    "DEFAULT_HOURS",
    "BusinessCalendar",
    "add_business_days",
    "add_business_time",
    "business_intervals",
    "business_time_between",
    "country_holidays",
    "is_business_time",
    "next_opening",
]

DayHours = tuple[time, time] | None

#: Monday-Friday 09:00-17:00, closed on Saturday and Sunday.
DEFAULT_HOURS: tuple[DayHours, ...] = ((time(9), time(17)),) * 5 + (None, None)

_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_BLOCK_DAYS = 128
_BLOCK_US = _BLOCK_DAYS * _DAY_US
_EPOCH = datetime(1, 1, 1, tzinfo=UTC)  # microsecond 0 of the internal time line
_MAX_ORDINAL = date.max.toordinal()
_MAX_BLOCK = _MAX_ORDINAL // _BLOCK_DAYS
_SEARCH_LIMIT_US = 1100 * _DAY_US  # "about three years" without any business time
_BLOCK_CACHE_SIZE = 128

# One block: (starts, ends, cum) with cum[i] = business time before interval i, cum[-1] = total.
_Block = tuple[list[int], list[int], list[int]]


def _time_us(value: time) -> int:
    """Microseconds since local midnight of a wall-clock time."""
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _to_us(moment: datetime) -> int:
    """Microseconds since 0001-01-01 00:00 UTC of an aware datetime (caller checked awareness)."""
    return (moment - _EPOCH) // _US


def _from_us(value: int) -> datetime:
    """The UTC datetime at an internal microsecond; ValueError beyond datetime's range."""
    try:
        return _EPOCH + timedelta(microseconds=value)
    except OverflowError as exc:
        raise ValueError("business time reaches beyond the supported date range") from exc


def _aware_us(moment: datetime, name: str) -> int:
    """Internal microseconds of ``moment``; TypeError if not a datetime, ValueError if naive."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {moment!r}")
    return (moment - _EPOCH) // _US


@functools.lru_cache(maxsize=_BLOCK_CACHE_SIZE)
def _shared_blocks(calendar: BusinessCalendar) -> dict[int, _Block]:
    """The block cache shared by all equal calendars (so per-request calendars stay fast)."""
    return {}


@dataclass(frozen=True)
class BusinessCalendar:
    """One engagement's business hours, holidays and approved after-hours windows (immutable)."""

    zone: ZoneInfo
    hours: tuple[DayHours, ...] = DEFAULT_HOURS
    holidays: frozenset[date] = frozenset()
    extra_windows: tuple[tuple[datetime, datetime], ...] = ()

    _day_us: int = field(init=False, repr=False, compare=False)
    _extra_us: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    _day_plan: tuple[tuple[time, time, time] | None, ...] = field(
        init=False, repr=False, compare=False
    )
    _blocks: dict[int, _Block] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate and normalise the fields; precompute per-weekday windows and extra windows."""
        set_ = object.__setattr__
        if not isinstance(self.zone, tzinfo):
            raise ValueError(f"zone must be a ZoneInfo, not {self.zone!r}")

        hours = tuple(self.hours)
        if len(hours) != 7:
            raise ValueError(f"hours must have 7 entries (Monday first), got {len(hours)}")
        normalised: list[DayHours] = []
        for weekday, entry in enumerate(hours):
            if entry is None:
                normalised.append(None)
                continue
            opening, closing = entry
            if not (isinstance(opening, time) and isinstance(closing, time)):
                raise ValueError(f"hours[{weekday}] must be a pair of datetime.time or None")
            if opening.tzinfo is not None or closing.tzinfo is not None:
                raise ValueError(f"hours[{weekday}] must be wall-clock times without tzinfo")
            opening, closing = opening.replace(fold=0), closing.replace(fold=0)
            if not opening < closing:
                raise ValueError(
                    f"hours[{weekday}]: opening {opening} must be before closing {closing} "
                    "(overnight windows are not supported)"
                )
            normalised.append((opening, closing))
        set_(self, "hours", tuple(normalised))

        days = frozenset(self.holidays)
        for day in days:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"holidays must be dates, got {day!r}")
        set_(self, "holidays", days)

        windows = tuple((start, end) for start, end in self.extra_windows)
        spans: list[tuple[int, int]] = []
        for start, end in windows:
            start_us = _aware_us(start, "extra window start")
            end_us = _aware_us(end, "extra window end")
            if end_us <= start_us:
                raise ValueError(f"extra window must end after it starts: {start} - {end}")
            spans.append((start_us, end_us))
        set_(self, "extra_windows", windows)
        set_(self, "_extra_us", tuple(_merge(sorted(spans))))

        set_(
            self,
            "_day_plan",
            tuple(
                None if entry is None else (entry[0], entry[1], entry[1].replace(fold=1))
                for entry in self.hours
            ),
        )
        lengths = Counter(
            _time_us(entry[1]) - _time_us(entry[0]) for entry in self.hours if entry is not None
        )
        # Most common open-close duration; a tie goes to the longer duration.
        set_(
            self,
            "_day_us",
            max(lengths.items(), key=lambda kv: (kv[1], kv[0]))[0] if lengths else 0,
        )
        set_(self, "_blocks", _shared_blocks(self))

    @property
    def business_day_length(self) -> timedelta:
        """The most common open-close duration over open weekdays (ties: longer); 0 if none open."""
        return timedelta(microseconds=self._day_us)

    def _block(self, index: int) -> _Block:
        """The business intervals of block ``index`` (built once, then cached)."""
        block = self._blocks.get(index)
        if block is None:
            block = self._build_block(index)
            self._blocks[index] = block
        return block

    def _build_block(self, index: int) -> _Block:
        """Compute the merged intervals of ``[index*B, (index+1)*B)`` and their prefix sums."""
        if not 0 <= index <= _MAX_BLOCK:
            return ([], [], [0])
        low = index * _BLOCK_US
        high = low + _BLOCK_US
        zone, plan, closed = self.zone, self._day_plan, self.holidays
        spans: list[tuple[int, int]] = []
        first = max(1, index * _BLOCK_DAYS - 1)
        last = min(_MAX_ORDINAL, (index + 1) * _BLOCK_DAYS + 2)
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            entry = plan[day.weekday()]
            if entry is None or day in closed:
                continue
            opening, closing, closing_late = entry
            start = _to_us(datetime.combine(day, opening, tzinfo=zone))
            end = max(
                _to_us(datetime.combine(day, closing, tzinfo=zone)),
                _to_us(datetime.combine(day, closing_late, tzinfo=zone)),
            )
            if start < end and start < high and end > low:
                spans.append((max(start, low), min(end, high)))
        for start, end in self._extra_us:
            if start < high and end > low:
                spans.append((max(start, low), min(end, high)))
        spans.sort()
        starts: list[int] = []
        ends: list[int] = []
        cum = [0]
        for start, end in _merge(spans):
            starts.append(start)
            ends.append(end)
            cum.append(cum[-1] + end - start)
        return (starts, ends, cum)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge sorted half-open spans that overlap or touch."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _elapsed_in_block(block: _Block, moment: int) -> int:
    """Business time between the block's start and ``moment`` (which lies in the block)."""
    starts, ends, cum = block
    i = bisect_right(starts, moment) - 1
    if i < 0:
        return 0
    end = ends[i]
    return cum[i] + (moment if moment < end else end) - starts[i]


def _next_opening_us(calendar: BusinessCalendar, moment: int) -> int:
    """``moment`` if business time, else the next interval start; ValueError after ~3 years."""
    index = moment // _BLOCK_US
    starts, ends, _ = calendar._block(index)
    i = bisect_right(starts, moment) - 1
    if i >= 0 and moment < ends[i]:
        return moment
    if i + 1 < len(starts):
        return starts[i + 1]
    while True:
        index += 1
        if index * _BLOCK_US - moment > _SEARCH_LIMIT_US or index > _MAX_BLOCK:
            raise ValueError("the calendar has no business time within about three years")
        starts = calendar._block(index)[0]
        if starts:
            return starts[0]


def _add_us(calendar: BusinessCalendar, moment: int, amount: int) -> int:
    """The earliest instant at or after the next opening with ``amount`` business time elapsed."""
    if amount < 0:
        raise ValueError("the amount of business time must not be negative")
    if amount == 0:
        return _next_opening_us(calendar, moment)
    index = moment // _BLOCK_US
    blocks = calendar._blocks
    block = blocks.get(index) or calendar._block(index)
    target = _elapsed_in_block(block, moment) + amount
    last_seen = moment
    while True:
        starts, ends, cum = block
        total = cum[-1]
        if target <= total:
            j = bisect_left(cum, target, 1) - 1
            return starts[j] + target - cum[j]
        if ends:
            last_seen = max(last_seen, ends[-1])
        target -= total
        index += 1
        if index * _BLOCK_US - last_seen > _SEARCH_LIMIT_US or index > _MAX_BLOCK:
            raise ValueError("the calendar has no business time within about three years")
        block = blocks.get(index) or calendar._block(index)


def _between_us(calendar: BusinessCalendar, start: int, end: int) -> int:
    """Business time in ``[start, end)`` in microseconds; 0 when ``end <= start``."""
    if end <= start:
        return 0
    first, last = start // _BLOCK_US, end // _BLOCK_US
    if first == last:
        block = calendar._block(first)
        return _elapsed_in_block(block, end) - _elapsed_in_block(block, start)
    block = calendar._block(first)
    total = block[2][-1] - _elapsed_in_block(block, start)
    for index in range(first + 1, last):
        total += calendar._block(index)[2][-1]
    return total + _elapsed_in_block(calendar._block(last), end)


def business_intervals(
    calendar: BusinessCalendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Yield the merged business intervals within ``[start, end)`` in order, as UTC datetimes."""
    start_us = _aware_us(start, "start")
    end_us = _aware_us(end, "end")
    return _intervals(calendar, start_us, end_us)


def _intervals(
    calendar: BusinessCalendar, start: int, end: int
) -> Iterator[tuple[datetime, datetime]]:
    """Generator behind business_intervals (arguments already validated)."""
    if end <= start:
        return
    pending: tuple[int, int] | None = None
    for index in range(start // _BLOCK_US, (end - 1) // _BLOCK_US + 1):
        starts, ends, _ = calendar._block(index)
        i = max(bisect_right(starts, start) - 1, 0)
        for j in range(i, len(starts)):
            low, high = max(starts[j], start), min(ends[j], end)
            if low >= end:
                break
            if low >= high:
                continue
            if pending is not None and low <= pending[1]:
                pending = (pending[0], max(pending[1], high))
                continue
            if pending is not None:
                yield _from_us(pending[0]), _from_us(pending[1])
            pending = (low, high)
    if pending is not None:
        yield _from_us(pending[0]), _from_us(pending[1])


def is_business_time(calendar: BusinessCalendar, at: datetime) -> bool:
    """Whether the instant ``at`` is business time (intervals are half-open: closing is not)."""
    moment = _aware_us(at, "at")
    starts, ends, _ = calendar._block(moment // _BLOCK_US)
    i = bisect_right(starts, moment) - 1
    return i >= 0 and moment < ends[i]


def next_opening(calendar: BusinessCalendar, at: datetime) -> datetime:
    """``at`` (in UTC) if business time, else the next opening; ValueError if none in ~3 years."""
    return _from_us(_next_opening_us(calendar, _aware_us(at, "at")))


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Total business time in ``[start, end)``; zero when ``end <= start``."""
    start_us = _aware_us(start, "start")
    end_us = _aware_us(end, "end")
    return timedelta(microseconds=_between_us(calendar, start_us, end_us))


def add_business_time(calendar: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """The earliest instant at or after next_opening(start) by which ``amount`` has elapsed.

    The clock starts at the next opening when ``start`` is outside business time. For
    ``amount == 0`` this is ``next_opening(start)`` (``start`` itself when it is business time);
    for ``amount > 0`` the result may be a closing instant (e.g. Wed 18:30 + 1 day = Thu 17:00).
    Raises ValueError for a negative amount or when no business time lies within ~3 years.
    """
    moment = _aware_us(start, "start")
    if not isinstance(amount, timedelta):
        raise TypeError(f"amount must be a timedelta, not {type(amount).__name__}")
    return _from_us(_add_us(calendar, moment, amount // _US))


def add_business_days(
    calendar: BusinessCalendar, start: datetime, days: int | float | Decimal
) -> datetime:
    """add_business_time(calendar, start, days x business_day_length), rounded to microseconds."""
    moment = _aware_us(start, "start")
    day_us = calendar._day_us
    if type(days) is int:
        amount = days * day_us
    elif isinstance(days, int | float | Decimal) and not isinstance(days, bool):
        exact = Decimal(days)
        if not exact.is_finite():
            raise ValueError(f"days must be finite, got {days!r}")
        amount = int((exact * day_us).to_integral_value(rounding=ROUND_HALF_EVEN))
    else:
        raise TypeError(f"days must be an int, float or Decimal, not {type(days).__name__}")
    if amount < 0:
        raise ValueError("days must not be negative")
    if day_us == 0:
        raise ValueError("the calendar has no open weekday, so a business day has no length")
    return _from_us(_add_us(calendar, moment, amount))


def country_holidays(
    country_code: str, years: Iterable[int], subdiv: str | None = None
) -> frozenset[date]:
    """The public holidays of ``country_code`` (optionally ``subdiv``) in ``years``.

    Uses the ``holidays`` package (observed/substitute days included); results are cached.
    Raises ValueError for an unknown country or subdivision code.
    """
    return _country_holidays(country_code.strip().upper(), tuple(sorted(set(years))), subdiv)


@functools.lru_cache(maxsize=256)
def _country_holidays(code: str, years: tuple[int, ...], subdiv: str | None) -> frozenset[date]:
    """Cached worker behind country_holidays."""
    try:
        found = holidays_package.country_holidays(code, subdiv=subdiv, years=years)
    except (NotImplementedError, KeyError) as exc:
        where = f"{code}/{subdiv}" if subdiv else code
        raise ValueError(f"unknown holiday calendar {where!r}") from exc
    return frozenset(found.keys())
