"""In-process cost of whole API requests through the WSGI handler, as gunicorn calls it.

Each request is a WSGI call of `portal.wsgi.application` with the environ a gunicorn worker
builds behind the TLS proxy (a real Bearer token, `Accept: application/json`,
`X-Forwarded-Proto: https`): every middleware, DRF's request handling, rendering and
`request_finished` (persistent connections as in production, CONN_MAX_AGE) — no server, no
network, no test client. For each endpoint it reports the CPU time of this process per request
(time.process_time over many warm requests: what a worker spends, unlike the wall clock, which
other sessions' load on a shared machine inflates), the wall time, and the SQL queries of a
request with a kept token and of one that reads the token again.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/bench_api_wsgi.py \\
        [--requests 500] [--rounds 3] [--profile list|detail|held|ping]

Run of 2026-12-03 16:38 UTC (issue 17) on a copy of the 1M-case data set, 2 shared cores at a
load average of 4-7 (other sessions' test suites), main at 171f03a ("before", `git archive`
with this script) and this branch run alternately, 2 x 300 requests per endpoint; CPU ms of the
best round, the two passes:

| endpoint | before CPU ms | after CPU ms | queries (kept token) |
| --- | --- | --- | --- |
| `/ping` | 0.76 / 0.83 | 0.54 / 0.53 | 0 |
| case list, 3,854-case org | 12.4 / 15.2 | 7.4 / 5.5 | 2 |
| case detail | 7.6 / 7.0 | 3.1 / 2.2 | 1 |
| case list, 4,175-case org | 16.2 / 13.8 | 6.7 / 5.2 | 2 |

`--profile` prints a cProfile (CPU time) of that endpoint's requests, by cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("CONN_MAX_AGE", "60")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# A closed loop of one client: the throttle runs (one cache round trip) at a rate it cannot reach.
os.environ.setdefault("API_THROTTLE_USER", "100000000/min")

from django.db import connection
from django.utils import timezone

from bench._dataset_env import QueryCounter, print_load, require_dataset
from bench.bench_api_lean import organizations, poc_of
from portal.accounts import services as account_services
from portal.accounts.models import ApiToken
from portal.tenancy.scoping import system_scope
from portal.wsgi import application

TOKEN_NAME = "bench_api_wsgi"


def environ(path: str, token: str | None) -> dict:
    path, _, query = path.partition("?")
    env = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8765",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8765",
        "HTTP_ACCEPT": "application/json",
        "HTTP_ACCEPT_LANGUAGE": "en",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_USER_AGENT": "wrk",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if token:
        env["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return env


def call(path: str, token: str | None) -> tuple[str, bytes]:
    answer: list[str] = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        answer.append(status)

    result = application(environ(path, token), start_response)
    try:
        body = b"".join(result)
    finally:
        result.close()  # request_finished, as a server does
    return answer[0], body


def run(path: str, token: str | None, count: int) -> tuple[float, list[float]]:
    walls = []
    started = time.process_time()
    for _ in range(count):
        start = time.perf_counter()
        status, body = call(path, token)
        walls.append(time.perf_counter() - start)
        if not status.startswith("200"):
            raise SystemExit(f"{path}: {status} {body[:300]!r}")
    return (time.process_time() - started) / count, walls


def queries(path: str, token: str | None) -> int:
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        call(path, token)
    return counter.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=3800)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=500, help="per endpoint and round")
    parser.add_argument("--profile", choices=["ping", "list", "detail", "held", "large"])
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    require_dataset()
    print_load()
    with system_scope("benchmark: pick subjects and make their tokens"):
        (small_org, small_count), (large_org, large_count) = organizations(args.small)
        tokens = {}
        for org in (small_org, large_org):
            _token, tokens[org] = account_services.api_token_create(
                user=poc_of(org),
                name=f"{TOKEN_NAME} {os.getpid()}",
                scopes=["read"],
                expires_at=timezone.now() + timedelta(hours=6),
            )
        from cases.casework.models import Case

        case_id = (
            Case.objects.filter(engagement__organization_id=small_org)
            .order_by("-received_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        # An item with a holder, as bench_http.py's detail is: its cover is looked up (issue 17:
        # the newest item above has none, so this bench missed that cost).
        held_id = (
            Case.objects.filter(engagement__organization_id=small_org, assignee__isnull=False)
            .order_by("-received_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
    endpoints = {
        "ping": ("/ping", "/ping", None),
        "list": (f"API case list, {small_count:,}-case org", "/api/v1/cases/", tokens[small_org]),
        "detail": (f"API case detail ({case_id})", f"/api/v1/cases/{case_id}/", tokens[small_org]),
        "held": (
            f"API case detail, held ({held_id})",
            f"/api/v1/cases/{held_id}/",
            tokens[small_org],
        ),
        "large": (f"API case list, {large_count:,}-case org", "/api/v1/cases/", tokens[large_org]),
    }
    try:
        for _label, path, token in endpoints.values():
            run(path, token, 50)  # warm: connections, caches, the schema's parameters
        kept = {key: queries(path, token) for key, (_l, path, token) in endpoints.items()}
        time.sleep(1.1)  # every kept token is now stale: the next request reads it again
        fresh = {key: queries(path, token) for key, (_l, path, token) in endpoints.items()}
        cpu: dict[str, list[float]] = {key: [] for key in endpoints}
        walls: dict[str, list[float]] = {key: [] for key in endpoints}
        for _round in range(args.rounds):  # interleaved: drifting load touches every row
            for key, (_label, path, token) in endpoints.items():
                spent, timings = run(path, token, args.requests)
                cpu[key].append(spent)
                walls[key] += timings
        sizes = {key: len(call(path, token)[1]) for key, (_l, path, token) in endpoints.items()}
        if args.profile:
            _label, path, token = endpoints[args.profile]
            profiler = cProfile.Profile(time.process_time)  # CPU, not the wall
            profiler.enable()
            run(path, token, args.requests)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            stats.sort_stats("cumulative").print_stats(args.top)
            stats.sort_stats("tottime").print_stats(args.top)
            print(out.getvalue())
    finally:
        with system_scope("benchmark: delete its tokens"):
            ApiToken.objects.filter(name=f"{TOKEN_NAME} {os.getpid()}").delete()
    print(f"{args.rounds} rounds x {args.requests} WSGI calls per endpoint, in process")
    print(
        "| endpoint | CPU ms (best round) | wall p50 ms "
        "| queries (kept token / read again) | bytes |"
    )
    print("| --- | --- | --- | --- | --- |")
    for key, (label, _path, _token) in endpoints.items():
        print(
            f"| {label} | {min(cpu[key]) * 1000:.2f} | {statistics.median(walls[key]) * 1000:.2f} "
            f"| {kept[key]} / {fresh[key]} | {sizes[key]:,} |"
        )
    print_load()


if __name__ == "__main__":
    main()
