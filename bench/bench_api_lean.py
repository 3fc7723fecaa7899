"""In-process timing of the API case list and detail against `/ping`, on a generated data set.

Runs the whole Django stack (middleware, DRF, token authentication, throttling, rendering) in
this process through the test client — no server, no network — so the figures show what the
code costs per request, with `/ping` (a plain JsonResponse through the same middleware) as the
floor in the same run. Subjects, picked from the data:

- "small org": the organization whose case count is nearest `--small` (default 3,800), its
  first named contact (a PoC) with a read token; the first page of `/api/v1/cases/` (50 rows)
  and the detail of its newest case;
- "large org": the organization with the most cases, the same list.

Tokens are made for the run (6 h expiry) and deleted at the end; nothing else is written.
Needs DATABASE_URL (PostgreSQL, a `generate_dataset` database) and, as in production, REDIS_URL
for the cache (throttling, the token cache).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/bench_api_lean.py [--rounds 5]

Run of 2026-12-03 12:45 UTC (issue 17), 2 shared cores at a load average of 6-7 (five other
sessions' test suites), PostgreSQL 15 and Redis on loopback, a data set of
`generate_dataset --organizations 12 --engagements 16 --managers 4 --cases 117000
--open-cases 11700` (organization 2: 3,807 cases, one engagement; organization 5: 30,084, two).
"before" is main at d3827b3 (`git archive`) with this script, run alternately with "after" in
two passes of 2 x 100 requests per endpoint; the second pass (the quieter) of each:

| endpoint | before p50 / CPU ms | after p50 / CPU ms | queries before → after |
| --- | --- | --- | --- |
| `/ping` | 0.29 / 0.35 | 0.29 / 0.32 | 0 → 0 |
| case list, 3,807 cases | 44.3 / 15.5 | 21.9 / 5.8 | 4 → 2 |
| case detail | 23.5 / 7.6 | 7.9 / 2.3 | 3 → 1 |
| case list, 30,084 cases | 57.0 / 14.7 | 21.5 / 6.6 | 4 → 2 |

Queries "after" are those of a kept token; when a process reads the token again (at most once a
second) the token, the membership and the engagements add three, and the token's `last_used_at`
is written at most once a minute (the "queries" column of a run shows whichever it met).

CPU is this process's time per request; the rest of the wall time was waiting for a CPU (the
list's two queries take 0.3 ms in PostgreSQL by EXPLAIN ANALYZE: 15 and 314 buffers, whatever
the organization's size). The wall-clock targets of issue 17 must be judged on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
# A closed loop of one client: keep the per-user throttle running (one cache round trip) but
# with a rate the loop cannot reach, as bench_http.py does.
os.environ.setdefault("API_THROTTLE_USER", "100000000/min")

from django.db import connection
from django.test import Client
from django.utils import timezone

from bench._dataset_env import QueryCounter, print_load, require_dataset
from engagements.contacts.models import Contact
from portal.accounts import services as account_services
from portal.accounts.models import ApiToken, User
from portal.tenancy.scoping import raw_sql, system_scope

TOKEN_NAME = "bench_api_lean"


def organizations(small: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """(organization id, case count) nearest `small` cases, and the largest."""
    with raw_sql("benchmark: case counts per organization") as cursor:
        cursor.execute(
            "SELECT e.organization_id, count(*) FROM cases_case c "
            "JOIN engagements_engagement e ON e.id = c.engagement_id GROUP BY 1"
        )
        counts = cursor.fetchall()
    nearest = min(counts, key=lambda row: (abs(row[1] - small), row[0]))
    largest = max(counts, key=lambda row: (row[1], -row[0]))
    return nearest, largest


def poc_of(organization_id: int) -> User:
    contact = (
        Contact.objects.filter(
            engagement__organization_id=organization_id,
            removed_at__isnull=True,
            user__is_active=True,
            user__kind=User.Kind.CUSTOMER,
        )
        .select_related("user")
        .order_by("added_at", "id")
        .first()
    )
    if contact is None:
        raise SystemExit(f"Organization {organization_id} has no active named contact.")
    return contact.user


def token_for(user: User) -> str:
    _token, plain = account_services.api_token_create(
        user=user,
        name=f"{TOKEN_NAME} {os.getpid()}",
        scopes=["read"],
        expires_at=timezone.now() + timedelta(hours=6),
    )
    return plain


def time_requests(
    client: Client, url: str, headers: dict[str, str], count: int, cpu: list[float] | None = None
) -> list[float]:
    timings = []
    started = time.process_time()
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(url, secure=True, headers=headers)
        timings.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
    if cpu is not None:
        cpu.append((time.process_time() - started) / count)
    return timings


def queries_of(client: Client, url: str, headers: dict[str, str]) -> int:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        client.get(url, secure=True, headers=headers)
    return counter.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=3800)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="per endpoint and round")
    args = parser.parse_args()
    require_dataset()
    print_load()
    with system_scope("benchmark: pick subjects and make their tokens"):
        (small_org, small_count), (large_org, large_count) = organizations(args.small)
        small_poc, large_poc = poc_of(small_org), poc_of(large_org)
        small_token, large_token = token_for(small_poc), token_for(large_poc)
        from cases.casework.models import Case

        case_id = (
            Case.objects.filter(engagement__organization_id=small_org)
            .order_by("-received_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
    small = {"Authorization": f"Bearer {small_token}"}
    large = {"Authorization": f"Bearer {large_token}"}
    endpoints = [
        ("/ping", "/ping", {}),
        (f"API case list, org {small_org} ({small_count:,} cases)", "/api/v1/cases/", small),
        (f"API case detail ({case_id})", f"/api/v1/cases/{case_id}/", small),
        (f"API case list, org {large_org} ({large_count:,} cases)", "/api/v1/cases/", large),
    ]
    client = Client()
    try:
        for _label, url, headers in endpoints:
            time_requests(client, url, headers, 30)  # warm up: connections, caches, schema
        queries = {label: queries_of(client, url, headers) for label, url, headers in endpoints}
        timings: dict[str, list[float]] = {label: [] for label, _url, _headers in endpoints}
        cpu: dict[str, list[float]] = {label: [] for label, _url, _headers in endpoints}
        for _round in range(args.rounds):  # interleaved, so drifting load touches every row
            for label, url, headers in endpoints:
                timings[label] += time_requests(client, url, headers, args.requests, cpu[label])
        sizes = {
            label: len(client.get(url, secure=True, headers=headers).content)
            for label, url, headers in endpoints
        }
    finally:
        with system_scope("benchmark: delete its tokens"):
            ApiToken.objects.filter(name=f"{TOKEN_NAME} {os.getpid()}").delete()
    print(f"{args.rounds} rounds x {args.requests} requests per endpoint, in-process test client")
    print("| endpoint | p50 ms | p90 ms | mean ms | CPU ms (this process) | queries | bytes |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, values in timings.items():
        ordered = sorted(values)
        p90 = ordered[int(len(ordered) * 0.9)]
        print(
            f"| {label} | {statistics.median(values) * 1000:.2f} | {p90 * 1000:.2f} "
            f"| {statistics.fmean(values) * 1000:.2f} | {min(cpu[label]) * 1000:.2f} "
            f"| {queries[label]} | {sizes[label]:,} |"
        )
    print_load()


if __name__ == "__main__":
    main()
