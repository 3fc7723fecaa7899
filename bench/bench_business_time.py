"""Benchmark: 100,000 add_business_days computations on a realistic calendar (target < 2 s).

Run from the project root: ``.venv/bin/python bench/bench_business_time.py``.
"""

from __future__ import annotations

import os
import platform
import random
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from engagements.business_time import (
    BusinessCalendar,
    add_business_days,
    country_holidays,
)

CALLS = 100_000
SEED = 20260101
ROUNDS = 3


def make_calendar() -> BusinessCalendar:
    """Europe/Berlin, Mon-Fri 09:00-17:00, German public holidays 2025-2028."""
    return BusinessCalendar(
        zone=ZoneInfo("Europe/Berlin"),
        holidays=country_holidays("DE", range(2025, 2029)),
    )


def make_instants(count: int, seed: int) -> list[tuple[datetime, int]]:
    """Seeded pseudo-random aware instants in 2025-2028 (mixed zones) with 1- or 2-day targets."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible benchmark inputs, not security
    base = datetime(2025, 1, 1, tzinfo=UTC)
    span_minutes = 4 * 365 * 24 * 60
    zones = [UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Seoul")]
    return [
        (
            (base + timedelta(minutes=rng.randrange(span_minutes))).astimezone(rng.choice(zones)),
            rng.choice((1, 2)),
        )
        for _ in range(count)
    ]


def main() -> None:
    """Time 100,000 calls per round; round 1 starts with a cold cache (construction excluded)."""
    calendar = make_calendar()
    work = make_instants(CALLS, SEED)
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()}"
    )
    for round_number in range(1, ROUNDS + 1):
        started = time.perf_counter()
        for moment, days in work:
            add_business_days(calendar, moment, days)
        elapsed = time.perf_counter() - started
        state = "cold cache" if round_number == 1 else "warm cache"
        print(
            f"round {round_number} ({state}): {CALLS:,} add_business_days calls in "
            f"{elapsed:.3f} s = {elapsed / CALLS * 1e6:.2f} µs per call (target: < 2 s)"
        )


if __name__ == "__main__":
    main()
