"""Benchmark (not a test): the SLA scanner over the generated data set's 100,000 open items.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
        .venv/bin/python bench/bench_sla_scan_dataset.py [--due 2000] [--profile]

The data set holds the reminders the scanner would have sent up to its `as_of` time. The scan
runs at the moment by which `--due` more thresholds (75 % or breach, default 2,000, as in
bench_sla_scan.py) have passed — a backlog of a few business hours — then once more at the same
time (nothing left to send). Both inside a transaction that is rolled back, so the data set is
left as it was.
"""

import argparse
import cProfile
import pstats
import time
from datetime import datetime, timedelta

import _dataset_env  # noqa: F401  (sets Django up)
from _dataset_env import QueryCounter, Rollback, print_load, require_dataset
from django.db import connection, transaction
from django.db.models import Max

from cases import sla
from cases.casework.models import Case, SlaReminder
from portal.tenancy.scoping import system_scope


def timed_scan(now, profile: bool):
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(queries := QueryCounter()):
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        result = sla.scan(now)
        if profiler:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return result, elapsed, queries.count, cpu


def scan_time(due: int) -> datetime:
    """The moment by which `due` thresholds of unanswered open items pass that had not passed
    by the data set's `as_of` (whose reminders the data set holds)."""
    as_of = Case.objects.aggregate(last=Max("received_at"))["last"]
    unanswered = Case.objects.filter(first_response_at__isnull=True, status__in=Case.OPEN_STATUSES)
    moments = sorted(
        moment
        for pair in unanswered.values_list("reminder_due_at", "response_due_at")
        for moment in pair
        if moment > as_of
    )
    if not moments:
        return as_of
    return moments[min(due, len(moments)) - 1] + timedelta(seconds=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--due", type=int, default=2_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    require_dataset()
    print_load()
    with system_scope("benchmark"):
        now = scan_time(args.due)
        open_items = Case.objects.filter(status__in=Case.OPEN_STATUSES)
        print(
            f"open items: {open_items.count():,}, unanswered: "
            f"{open_items.filter(first_response_at__isnull=True).count():,}, reminders already "
            f"sent: {SlaReminder.objects.count():,}; scanning at {now.isoformat()}"
        )
        before = SlaReminder.objects.count()
        try:
            with transaction.atomic():
                result, first_s, first_q, first_cpu = timed_scan(now, args.profile)
                print(
                    f"scan 1: {first_s:.2f} s ({first_cpu:.1f} s CPU in this process), "
                    f"{first_q:,} queries — at risk {result.at_risk}, breached {result.breached}"
                )
                again, again_s, again_q, again_cpu = timed_scan(now, False)
                print(
                    f"scan 2: {again_s:.3f} s ({again_cpu:.2f} s CPU in this process), "
                    f"{again_q:,} queries — at risk {again.at_risk}, breached {again.breached}"
                )
                raise Rollback
        except Rollback:
            pass
        assert SlaReminder.objects.count() == before, "the data set changed"
    print("rolled back: the data set is unchanged")


if __name__ == "__main__":
    main()
