"""Benchmark (not a test): the portal's pages and API over HTTP, served by gunicorn on loopback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench \\
    REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/bench_http.py

Runs against a database already loaded by `manage.py generate_dataset` (it reads the data and
adds only a read-only API token and two sessions, which it deletes again at the end). It:

1. collects the static files (hashed manifest, as in production) into a scratch directory
   and applies any migration not yet applied (the indexes must be the code's),
2. picks the objects: the engagement with the most cases, its first named contact (the PoC),
   that engagement's case with the most timeline events, its service manager, and its latest
   completed service review (preferring one with a frozen report),
3. creates a read-only API token for the PoC and server-side sessions for the PoC and the
   manager (no sign-in round trip, no password or TOTP),
4. starts gunicorn (production settings: DEBUG off, manifest static files, persistent database
   connections, the Redis cache) on 127.0.0.1, waits for it, checks each URL answers 200
   and counts each one's SQL queries in-process,
5. warms every endpoint up, then runs `wrk` (a separate process, closed loop, keep-alive) for a
   fixed time per endpoint and concurrency, reading p50/p95 from wrk's latency histogram
   through bench/wrk_report.lua,
6. stops gunicorn, deletes the token and sessions, and prints a markdown table (also written
   to bench/results/http-<date>.md) with p50, p95, requests per second, the ratio of each
   endpoint's throughput to the trivial JSON view's at the same concurrency, and the targets.

`/ping` is the framework's ceiling: a plain Django view returning JsonResponse with no
database or cache access, through the same middleware stack and server.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Production-like settings, shared by this process (which makes the sessions) and gunicorn.
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "STATIC_MANIFEST": "1",
    "CONN_MAX_AGE": "60",
    "LOG_LEVEL": "WARNING",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "PORTAL_VAR_DIR": str(ROOT / "var" / "bench-http"),
    # The throttle still runs (one cache round trip a request), but must not answer 429 to a
    # load generator that sends thousands of requests a minute with one token.
    "API_THROTTLE_USER": "10000000/min",
}
for _name, _value in BENCH_ENV.items():
    os.environ.setdefault(_name, _value)

if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
    sys.exit("Set DATABASE_URL (PostgreSQL with the generated data set) and REDIS_URL.")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases.casework.models import Case, CaseEvent  # noqa: E402
from engagements.contacts.models import Contact  # noqa: E402
from engagements.contracts.models import Engagement  # noqa: E402
from portal.accounts import services as account_services  # noqa: E402
from portal.accounts.models import ApiToken, User  # noqa: E402
from portal.tenancy.scoping import system_scope  # noqa: E402
from reviews.reports.models import ReportSnapshot  # noqa: E402
from reviews.scheduling.models import Occurrence  # noqa: E402

TOKEN_NAME = "bench_http"
LUA = ROOT / "bench" / "wrk_report.lua"
RESULTS = ROOT / "bench" / "results"


@dataclass
class Endpoint:
    key: str
    label: str
    path: str
    headers: dict[str, str]
    target_ms: float | None = None  # p95 at concurrency 1
    note: str = ""
    queries: int | None = None
    bytes: int | None = None


@dataclass
class Run:
    endpoint: Endpoint
    concurrency: int
    figures: dict = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.figures["requests"] / (self.figures["duration_us"] / 1e6)

    @property
    def errors(self) -> int:
        keys = ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
        return sum(self.figures[key] for key in keys)


# --- Picking the objects and the credentials ----------------------------------------------------


@dataclass
class Subjects:
    engagement: Engagement
    case_count: int
    organization_case_count: int
    poc: User
    case: Case
    case_events: int
    manager: User
    review: Occurrence
    review_has_snapshot: bool


def pick_subjects() -> Subjects:
    with system_scope("HTTP benchmark: pick the busiest engagement"):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT engagement_id, count(*) FROM cases_case "
                "GROUP BY engagement_id ORDER BY count(*) DESC, engagement_id LIMIT 1"
            )
            engagement_id, case_count = cursor.fetchone()
        engagement = Engagement.objects.select_related("manager", "organization").get(
            pk=engagement_id
        )
        contact = (
            Contact.objects.filter(
                engagement=engagement,
                removed_at__isnull=True,
                user__is_active=True,
                user__kind=User.Kind.CUSTOMER,
            )
            .select_related("user")
            .order_by("added_at", "id")
            .first()
        )
        if contact is None:
            sys.exit(f"Engagement {engagement.pk} has no active named contact.")
        busiest = (
            CaseEvent.objects.filter(case__engagement=engagement)
            .values("case_id")
            .annotate(n=Count("id"))
            .order_by("-n", "case_id")
            .first()
        )
        if busiest:
            case, case_events = Case.objects.get(pk=busiest["case_id"]), busiest["n"]
        else:
            case, case_events = Case.objects.filter(engagement=engagement).first(), 0
        reviews = Occurrence.objects.filter(
            engagement=engagement, deliverable="service_review"
        ).order_by("-scheduled_start", "-id")
        completed = reviews.filter(status=Occurrence.Status.COMPLETED)
        with_snapshot = set(
            ReportSnapshot.objects.filter(occurrence__in=completed).values_list(
                "occurrence_id", flat=True
            )
        )
        # A completed review with its frozen report; failing that (a small demo data set),
        # the latest review, whose page shows the live figures.
        review = (
            completed.filter(pk__in=with_snapshot).first() or completed.first() or reviews.first()
        )
        if review is None:
            sys.exit(f"Engagement {engagement.pk} has no service review.")
        if engagement.manager is None:
            sys.exit(f"Engagement {engagement.pk} has no service manager.")
        organization_case_count = Case.objects.filter(
            engagement__organization_id=engagement.organization_id
        ).count()
        return Subjects(
            engagement=engagement,
            case_count=case_count,
            organization_case_count=organization_case_count,
            poc=contact.user,
            case=case,
            case_events=case_events,
            manager=engagement.manager,
            review=review,
            review_has_snapshot=review.pk in with_snapshot,
        )


def make_session(user: User) -> str:
    """A signed-in session made server-side, as `login()` would store it (no sign-in page, no
    last_login update)."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.set_expiry(6 * 3600)
    store.create()
    return store.session_key


def delete_session(key: str) -> None:
    from importlib import import_module

    import_module(settings.SESSION_ENGINE).SessionStore(session_key=key).delete()


def make_token(user: User) -> tuple[ApiToken, str]:
    now = timezone.now()
    # Expired ones left by interrupted runs go; a concurrent run's token stays.
    ApiToken.objects.filter(user=user, name__startswith=TOKEN_NAME, expires_at__lte=now).delete()
    return account_services.api_token_create(
        user=user,
        name=f"{TOKEN_NAME} {os.getpid()}",
        scopes=["read"],
        expires_at=now + timedelta(hours=6),
    )


# --- gunicorn and wrk ---------------------------------------------------------------------------


def start_gunicorn(args: argparse.Namespace) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "portal.wsgi:application",
        "--bind",
        f"127.0.0.1:{args.port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        "gthread" if args.threads > 1 else "sync",
        "--threads",
        str(args.threads),
        # The connections a gthread worker holds come from gunicorn.conf.py (threads + 1, read
        # from the project root as in a deployment) unless --worker-connections sets them.
        *(
            ["--worker-connections", str(args.worker_connections)]
            if args.worker_connections
            else []
        ),
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
        "--timeout",
        "60",
    ]
    log = open(Path(os.environ["PORTAL_VAR_DIR"]) / "gunicorn.log", "w")  # noqa: SIM115
    return subprocess.Popen(  # noqa: S603 (fixed arguments)
        command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=log, start_new_session=True
    )


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http://127.0.0.1 only)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}; see its log.")
        try:
            if fetch(f"{base}/ping", COMMON_HEADERS)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("gunicorn did not answer /ping in time.")


# Behind the TLS-terminating proxy of a production deployment.
COMMON_HEADERS = {"X-Forwarded-Proto": "https", "Accept-Language": "en"}


def run_wrk(url: str, headers: dict[str, str], *, connections: int, seconds: int) -> dict:
    env = dict(os.environ)
    env["BENCH_HEADERS"] = "\n".join(f"{name}: {value}" for name, value in headers.items())
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        url,
    ]
    output = subprocess.run(  # noqa: S603 (fixed arguments)
        command, env=env, capture_output=True, text=True, check=True
    ).stdout
    for line in output.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[len("BENCH ") :])
    raise RuntimeError(f"wrk printed no figures:\n{output}")


def count_queries(endpoint: Endpoint) -> tuple[int, int]:
    """SQL queries and response size of one request, served in this process."""
    client = Client(HTTP_HOST="127.0.0.1")
    extra = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in endpoint.headers.items()
        if name != "Cookie"
    }
    for part in endpoint.headers.get("Cookie", "").split(";"):
        if "=" in part:
            name, value = part.strip().split("=", 1)
            client.cookies[name] = value
    with CaptureQueriesContext(connection) as queries:
        response = client.get(endpoint.path, secure=True, **extra)
    if response.status_code != 200:
        raise RuntimeError(f"{endpoint.path} answered {response.status_code} in-process")
    return len(queries), len(response.content)


# --- Report -------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    return (
        f"{os.cpu_count()} cores ({model or platform.machine()}), PostgreSQL {pg}, "
        f"CPython {platform.python_version()}, Django {django.get_version()}"
    )


def cpu_reference() -> float:
    """Milliseconds a fixed pure-Python loop takes (median of three): how fast this machine is
    running right now. A shared machine's speed drifts by half within minutes; the same run
    at full speed takes about 130 ms here."""
    timings = []
    for _ in range(3):
        start, total = time.perf_counter(), 0
        for number in range(3_000_000):
            total += number * number
        timings.append((time.perf_counter() - start) * 1000)
    return sorted(timings)[1]


def dataset() -> str:
    with system_scope("HTTP benchmark: describe the data set"), connection.cursor() as cursor:
        figures = []
        for label, sql in (
            ("cases", "SELECT count(*) FROM cases_case"),
            ("open", "SELECT count(*) FROM cases_case WHERE status NOT IN ('resolved', 'closed')"),
            ("engagements", "SELECT count(*) FROM engagements_engagement"),
            ("occurrences", "SELECT count(*) FROM reviews_occurrence"),
            ("time entries", "SELECT count(*) FROM engagements_timeentry"),
        ):
            cursor.execute(sql)
            figures.append(f"{cursor.fetchone()[0]:,} {label}")
    return ", ".join(figures)


def ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f}"


def table(runs: list[Run], ceiling: dict[int, float]) -> list[str]:
    lines = [
        "| endpoint | concurrency | requests | RPS | p50 ms | p95 ms | p99 ms "
        "| ratio to ceiling | queries | target (p95, c=1) | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run in runs:
        endpoint, f = run.endpoint, run.figures
        target, met = "—", "—"
        if endpoint.target_ms is not None and run.concurrency == 1:
            target = f"< {endpoint.target_ms:.0f} ms"
            met = "yes" if f["p95_us"] / 1000 < endpoint.target_ms else "**no**"
        errors = f" ({run.errors} errors)" if run.errors else ""
        lines.append(
            f"| {endpoint.label} | {run.concurrency} | {f['requests']:,}{errors} | "
            f"{run.rps:,.0f} | {ms(f['p50_us'])} | {ms(f['p95_us'])} | {ms(f['p99_us'])} | "
            f"{run.rps / ceiling[run.concurrency]:.1%} | "
            f"{endpoint.queries if endpoint.queries is not None else '—'} | {target} | {met} |"
        )
    return lines


# --- Main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per run (20)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per endpoint")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4, gthread)")
    parser.add_argument(
        "--worker-connections",
        type=int,
        default=0,
        help="connections a gthread worker holds at most (default: gunicorn.conf.py, threads + 1)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--only", nargs="+", help="endpoint keys to run (ping always runs)")
    parser.add_argument("--out", type=Path, help="markdown file (bench/results/http-<date>.md)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk).")

    started, load_before = time.monotonic(), os.getloadavg()[0]
    cpu_before = cpu_reference()
    Path(os.environ["PORTAL_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    call_command("collectstatic", interactive=False, verbosity=0)
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:  # the schema (indexes) must be the code's
        print(f"Applying {len(pending)} migration(s) first.", file=sys.stderr)
        call_command("migrate", interactive=False, verbosity=0)
    subjects = pick_subjects()
    token, secret = make_token(subjects.poc)
    poc_session, manager_session = make_session(subjects.poc), make_session(subjects.manager)
    api = {**COMMON_HEADERS, "Authorization": f"Bearer {secret}", "Accept": "application/json"}
    cookie = settings.SESSION_COOKIE_NAME

    def as_poc() -> dict[str, str]:
        return {**COMMON_HEADERS, "Cookie": f"{cookie}={poc_session}"}

    endpoints = [
        Endpoint("ping", "trivial JSON view (ceiling)", "/ping", dict(COMMON_HEADERS)),
        Endpoint(
            "api_list",
            f"API case list (PoC token, {subjects.organization_case_count:,}-case org)",
            "/api/v1/cases/",
            api,
            60,
            "first page, 50 cases, newest first",
        ),
        Endpoint(
            "api_detail",
            "API case detail (PoC token)",
            f"/api/v1/cases/{subjects.case.pk}/",
            api,
            60,
            f"the engagement's case with the most events ({subjects.case_events})",
        ),
        Endpoint(
            "case_list_page",
            f"case list page, PoC ({subjects.organization_case_count:,}-case org)",
            "/cases/",
            as_poc(),
            None,
            "the page's default filters and sort",
        ),
        Endpoint("dashboard", "PoC dashboard", "/", as_poc(), 150),
        Endpoint(
            "board",
            "manager's weekly board",
            "/board/",
            {**COMMON_HEADERS, "Cookie": f"{cookie}={manager_session}"},
            150,
        ),
        Endpoint(
            "report",
            "service review report page (PoC)",
            f"/reviews/{subjects.review.pk}/report/",
            as_poc(),
            None,
            "frozen snapshot" if subjects.review_has_snapshot else "live figures (no snapshot)",
        ),
    ]
    if args.only:
        endpoints = [e for e in endpoints if e.key == "ping" or e.key in args.only]

    base = f"http://127.0.0.1:{args.port}"
    server = start_gunicorn(args)
    runs: list[Run] = []
    try:
        wait_until_up(base, server)
        for endpoint in endpoints:
            status, body = fetch(base + endpoint.path, endpoint.headers)
            if status != 200:
                raise RuntimeError(f"{endpoint.path} answered {status}: {body[:300]!r}")
            endpoint.queries, endpoint.bytes = count_queries(endpoint)
        for endpoint in endpoints:
            run_wrk(base + endpoint.path, endpoint.headers, connections=2, seconds=args.warmup)
        for endpoint in endpoints:
            for concurrency in args.concurrency:
                figures = run_wrk(
                    base + endpoint.path,
                    endpoint.headers,
                    connections=concurrency,
                    seconds=args.duration,
                )
                runs.append(Run(endpoint, concurrency, figures))
                print(
                    f"  {endpoint.key:<11} c={concurrency}: {runs[-1].rps:8.1f} req/s  "
                    f"p50 {ms(figures['p50_us'])} ms  p95 {ms(figures['p95_us'])} ms",
                    file=sys.stderr,
                )
    finally:
        stop_gunicorn(server)
        token.delete()
        delete_session(poc_session)
        delete_session(manager_session)

    ceiling = {run.concurrency: run.rps for run in runs if run.endpoint.key == "ping"}
    now = datetime.now(UTC)
    engagement = subjects.engagement
    lines = [
        f"## HTTP benchmark, {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: {machine()}",
        f"- Data set: {dataset()}",
        f"- Server: gunicorn {args.workers} workers × {args.threads} threads "
        f"({'gthread' if args.threads > 1 else 'sync'}; gunicorn.conf.py: "
        f"{args.worker_connections or args.threads + 1} connections a worker) on 127.0.0.1, "
        "DEBUG off, manifest "
        "static files, CONN_MAX_AGE=60, Redis cache",
        f"- Load: wrk 1 thread, closed loop with keep-alive, {args.duration:g} s per run after "
        f"{args.warmup:g} s warm-up per endpoint",
        f"- Machine load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"niceness {os.nice(0)} (a quiet machine shows about 0 before, 1–2 after)",
        f"- Machine speed: a fixed Python loop took {cpu_before:.0f} ms before, "
        f"{cpu_reference():.0f} ms after (about 130 ms when this machine runs at full speed)",
        f"- Subjects: engagement {engagement.pk} ({subjects.case_count:,} cases; its "
        f"organization {subjects.organization_case_count:,}), "
        f"PoC user {subjects.poc.pk}, manager user {subjects.manager.pk}, "
        f"case {subjects.case.pk}, review {subjects.review.pk}",
        "",
        *table(runs, ceiling),
        "",
        "Endpoints:",
        "",
    ]
    for endpoint in endpoints:
        note = f" — {endpoint.note}" if endpoint.note else ""
        lines.append(
            f"- {endpoint.label}: `GET {endpoint.path}`, {endpoint.bytes:,} bytes, "
            f"{endpoint.queries} SQL queries{note}"
        )
    lines += ["", f"Total time {time.monotonic() - started:.0f} s.", ""]
    text = "\n".join(lines)
    print(text)
    out = args.out or RESULTS / f"http-{now:%Y-%m-%d}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"(written to {out})", file=sys.stderr)


if __name__ == "__main__":
    main()
