"""Benchmark (not a test): the service review report of the data set's busiest engagement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
        .venv/bin/python bench/bench_report.py [--profile]

"Busiest" is the engagement with the most cases + time entries + occurrences. Its latest past
service review's report is built with `reviews.reports.figures.build_report(as_of=now)`, as the
report
page does for a review that has no frozen snapshot: the review's month and the six before it
(seven months of cases, the period's hours and deliverables). The same is timed for the busiest
engagement whose reviews are quarterly (SaaS Standard): seven quarters, 21 months of cases —
the "12-month report" of the benchmark brief with room to spare. Each is built five times;
the first (cold) and the median of the rest are shown, with the query count. Read-only.
"""

import argparse
import cProfile
import importlib
import pstats
import statistics
import time
from collections import Counter

import _dataset_env  # noqa: F401  (sets Django up)
from _dataset_env import QueryCounter, print_load, require_dataset
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from cases.casework.models import Case
from engagements.contracts.models import Engagement
from engagements.time.models import TimeEntry
from portal.tenancy.scoping import system_scope
from reviews.reports.figures import build_report
from reviews.scheduling.models import Occurrence

ROUNDS = 5


def volumes() -> Counter:
    total: Counter = Counter()
    for model in (Case, TimeEntry, Occurrence):
        for row in model.objects.values("engagement_id").annotate(n=Count("id")):
            total[row["engagement_id"]] += row["n"]
    return total


def bench(engagement: Engagement, label: str, profile: bool) -> None:
    review = (
        Occurrence.objects.filter(
            engagement=engagement,
            deliverable="service_review",
            scheduled_start__lte=timezone.now(),
        )
        .select_related("engagement__organization", "engagement__plan")
        .order_by("-scheduled_start")
        .first()
    )
    cases = Case.objects.filter(engagement=engagement).count()
    entries = TimeEntry.objects.filter(engagement=engagement).count()
    occurrences = Occurrence.objects.filter(engagement=engagement).count()
    print(
        f"{label}: engagement {engagement.pk} ({engagement.plan.code}), {cases:,} cases, "
        f"{entries:,} time entries, {occurrences:,} occurrences; review {review.period}"
    )
    times = []
    for round_number in range(ROUNDS):
        profiler = cProfile.Profile() if profile and round_number == 1 else None
        with connection.execute_wrapper(queries := QueryCounter()):
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            data = build_report(review, as_of=timezone.now())
            if profiler:
                profiler.disable()
            times.append(time.perf_counter() - started)
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    window = f"{data['trend'][0]['start']} – {data['meta']['period_last_day']}"
    print(
        f"  window {window}: cold {times[0]:.3f} s, warm median "
        f"{statistics.median(times[1:]):.3f} s, {queries.count} queries; "
        f"opened {data['activity']['opened']}, open items {data['open_items']['total']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    require_dataset()
    print_load()
    # A process pays once for the holidays package's import of its country modules (on the
    # first calendar with a holiday country); shown apart, not counted in the reports.
    started = time.perf_counter()
    importlib.import_module("holidays.countries")
    print(f"process warm-up (import holidays.countries): {time.perf_counter() - started:.2f} s")
    with system_scope("benchmark"):
        total = volumes()
        engagements = Engagement.objects.select_related("plan", "organization").in_bulk(list(total))
        ranked = sorted(total, key=lambda pk: (-total[pk], pk))
        busiest = engagements[ranked[0]]
        quarterly = next(
            engagements[pk] for pk in ranked if engagements[pk].plan.code == "standard"
        )
        bench(busiest, "busiest", args.profile)
        bench(quarterly, "busiest with quarterly reviews", args.profile)


if __name__ == "__main__":
    main()
