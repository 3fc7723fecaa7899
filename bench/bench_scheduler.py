"""Benchmark (not a test): the review scheduler over every active engagement of the data set.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
        .venv/bin/python bench/bench_scheduler.py [--profile]

Times `reviews.scheduling.tasks.schedule_all` (what the daily job runs) twice: a first run that
has to
create each engagement's 90-day horizon (the data set holds only past occurrences) and a repeat
run that finds nothing to do. Both run inside one transaction that is rolled back, so the data
set is left as it was. `--profile` prints the first run's top functions (cProfile).
"""

import argparse
import cProfile
import pstats
import time

import _dataset_env  # noqa: F401  (sets Django up)
from _dataset_env import QueryCounter, Rollback, print_load, require_dataset
from django.db import connection, transaction
from django.utils import timezone

from engagements.contracts.models import Engagement
from portal.tenancy.scoping import system_scope
from reviews.scheduling.models import Occurrence
from reviews.scheduling.scheduler import active_engagement_ids
from reviews.scheduling.tasks import schedule_all


def timed_run(profile: bool) -> tuple[dict, float, int]:
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(queries := QueryCounter()):
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        totals = schedule_all()
        if profiler:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return totals, elapsed, queries.count, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    require_dataset()
    print_load()
    with system_scope("benchmark"):
        active = len(active_engagement_ids(timezone.now().date()))
        print(f"engagements: {Engagement.objects.count():,} ({active:,} active)")
        before = Occurrence.objects.count()
    try:
        with transaction.atomic():
            first, first_s, first_q, first_cpu = timed_run(args.profile)
            print(
                f"run 1: {first_s:.2f} s ({first_cpu:.1f} s CPU in this process), "
                f"{first_q:,} queries — {first}"
            )
            again, again_s, again_q, again_cpu = timed_run(False)
            print(
                f"run 2: {again_s:.2f} s ({again_cpu:.1f} s CPU in this process), "
                f"{again_q:,} queries — {again}"
            )
            raise Rollback
    except Rollback:
        pass
    with system_scope("benchmark"):
        assert Occurrence.objects.count() == before, "the data set changed"
    print("rolled back: the data set is unchanged")


if __name__ == "__main__":
    main()
