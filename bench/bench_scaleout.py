"""Benchmark (not a test): the portal scaled out on one machine, checked for lost, duplicated or
late work while everything runs at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_h6_scale \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/bench_scaleout.py --duration 120

Runs against a database loaded by `manage.py generate_dataset` (any size). It starts, as separate
processes against one PostgreSQL and one Redis:

- gunicorn with 4 web worker processes (gthread, 2 threads each),
- 3 Celery workers, one per queue group: `sla`, `mail`, `scheduler,celery`,
- 1 Celery beat (the leader lock of portal/beat.py) with short intervals: the SLA scan every
  `--scan-interval` s (10), the outbox every 5 s, the scheduler every 60 s,
- an SMTP sink (aiosmtpd) in this process that the mail worker delivers to,

then for `--duration` seconds drives 16 HTTP clients (threads with keep-alive: API case list and
detail with a token, the case list page and the dashboard with a session, and every 10th request
a new case through the API) while the SLA thresholds of `--planted` open items fall due at known
moments spread over the run, and two scheduler runs are sent at once at the start. Then it waits
for the queues to drain and counts, against what was expected:

- SLA reminders: exactly one per (item, threshold) for each planted item (none lost, none twice),
  each claimed within one scan interval of its due time (lateness = claimed − due);
- notifications: one per reminder and recipient (by dedupe key);
- e-mails: every outbox row created during the run sent once and received once by the sink (by
  recipient, subject and body), and how long each waited in the outbox;
- scheduler: no two occurrences of one engagement, deliverable and period.

It writes only what the run itself causes (cases, reminders, notifications, e-mails, sessions,
a token per client), moves the planted items' due times, and prints a report (also written to
bench/results/scaleout-<date>.md). Use a database of its own: the run changes data.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "STATIC_MANIFEST": "0",
    "LOG_LEVEL": "WARNING",
    "PORTAL_VAR_DIR": str(ROOT / "var" / "bench-scaleout"),
    "API_THROTTLE_USER": "10000000/min",
    "CELERY_TASK_ALWAYS_EAGER": "0",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_HOST": "127.0.0.1",
    "OUTBOX_INTERVAL_SECONDS": "5",
    "SCHEDULER_INTERVAL_SECONDS": "60",
    "WEBHOOK_INTERVAL_SECONDS": "30",
    "HEARTBEAT_INTERVAL_SECONDS": "30",
    # Cache keys and the beat leader's lock of this run only (a killed earlier run's lock would
    # keep this beat standing by for BEAT_LOCK_TTL_SECONDS).
    "CACHE_KEY_PREFIX": f"bench-scaleout-{os.getpid()}",
}
for _name, _value in BENCH_ENV.items():
    os.environ.setdefault(_name, _value)

if not os.environ.get("DATABASE_URL", "").startswith("postgres") or not os.environ.get("REDIS_URL"):
    sys.exit("Set DATABASE_URL (PostgreSQL with a generated data set) and REDIS_URL.")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- The SMTP sink: what the mail worker really delivered -------------------------------------


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str, str, float]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes
        from email.header import decode_header, make_header

        message = message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(message.get("Subject", ""))))
        payload = message.get_payload(decode=True) or b""
        with self.lock:
            for to in envelope.rcpt_tos:
                self.messages.append((to, subject, payload.decode(errors="replace"), time.time()))
        return "250 OK"


# --- Processes --------------------------------------------------------------------------------


@dataclass
class Fleet:
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str], logs: Path) -> None:
        log = (logs / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(  # noqa: S603 (fixed arguments)
            command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )

    def check(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see its log.")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def start_pgbouncer(
    database_url: str, pool_size: int, logs: Path
) -> tuple[str, int, Path, subprocess.Popen]:
    """PgBouncer in transaction pooling in front of the database: (its URL, port, folder)."""
    import tempfile
    from urllib.parse import urlsplit, urlunsplit

    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    url = urlsplit(database_url)
    folder = Path(tempfile.mkdtemp(prefix="bench-pgbouncer-"))
    folder.chmod(0o755)
    port = free_port()
    user = url.username or "postgres"
    (folder / "userlist.txt").write_text(f'"{user}" "{url.password or ""}"\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={url.hostname or '127.0.0.1'} port={url.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'userlist.txt'}\nadmin_users = {user}\n"
        f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 200\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    for name in ("userlist.txt", "pgbouncer.ini"):
        (folder / name).chmod(0o644)
    command = [binary, *(["-u", "postgres"] if os.geteuid() == 0 else [])]
    log = (logs / "pgbouncer.log").open("w")
    process = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [*command, str(folder / "pgbouncer.ini")],
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    netloc = f"{user}@127.0.0.1:{port}"
    time.sleep(1)
    return urlunsplit((url.scheme, netloc, url.path, "", "")), port, folder, process


def pgbouncer_stats(port: int, database: str) -> dict[str, str]:
    """SHOW STATS of the admin console (simple query protocol: psql)."""
    output = subprocess.run(  # noqa: S603 (fixed arguments)
        [
            shutil.which("psql") or "/usr/bin/psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-AF",
            "|",
            "-c",
            "SHOW STATS",
            "pgbouncer",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    if len(output) < 2:
        return {}
    header = output[0].split("|")
    for line in output[1:]:
        values = line.split("|")
        if values and values[0] == database:
            return dict(zip(header, values, strict=False))
    return {}


# --- HTTP clients -----------------------------------------------------------------------------


@dataclass
class Client:
    token: str
    cookie: str
    engagement: int
    case: int
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    created: list[int] = field(default_factory=list)


def drive(client: Client, port: int, until: float, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 (request mix, not secrets)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    base = {"X-Forwarded-Proto": "https", "Accept-Language": "en", "Host": "127.0.0.1"}
    api = {**base, "Authorization": f"Bearer {client.token}", "Accept": "application/json"}
    page = {**base, "Cookie": client.cookie}
    requests = [
        ("api_list", "GET", "/api/v1/cases/", api),
        ("api_detail", "GET", f"/api/v1/cases/{client.case}/", api),
        ("case_list_page", "GET", "/cases/", page),
        ("dashboard", "GET", "/", page),
    ]
    count = 0
    while time.monotonic() < until:
        count += 1
        if count % 10 == 0:
            key, method, path, headers = "api_raise", "POST", "/api/v1/cases/", api
            body = json.dumps(
                {
                    "engagement": client.engagement,
                    "kind": "inquiry",
                    "severity": 2,
                    "subject": f"Scale-out run {seed}-{count}",
                    "description": "Raised by bench/bench_scaleout.py.",
                }
            ).encode()
            headers = {
                **headers,
                "Content-Type": "application/json",
                "Idempotency-Key": f"scaleout-{seed}-{count}-{rng.random()}",
            }
        else:
            key, method, path, headers = rng.choice(requests)
            body = None
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status, data = 0, b""
        client.latencies.setdefault(key, []).append(time.perf_counter() - started)
        client.statuses[(key, status)] += 1
        if key == "api_raise" and status == 201:
            client.created.append(json.loads(data)["id"])
    connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# --- Main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=120, help="seconds of load (120)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--planted", type=int, default=60, help="items whose SLA falls due")
    parser.add_argument("--scan-interval", type=float, default=10.0)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--drain", type=int, default=90, help="most seconds to wait after")
    parser.add_argument(
        "--pgbouncer",
        type=int,
        metavar="POOL",
        help="put the fleet behind PgBouncer (transaction pooling) with this default_pool_size",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ["SLA_SCAN_INTERVAL_SECONDS"] = str(args.scan_interval)

    var = Path(os.environ["PORTAL_VAR_DIR"])
    shutil.rmtree(var, ignore_errors=True)
    (var / "logs").mkdir(parents=True, exist_ok=True)
    # As under compose: the web workers' request metrics in a folder emptied per start.
    (var / "prometheus").mkdir()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(var / "prometheus")

    from aiosmtpd.controller import Controller

    sink = Sink()
    smtp_port = free_port()
    os.environ["EMAIL_PORT"] = str(smtp_port)
    controller = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    controller.start()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from cases.casework.models import Case, SlaReminder
    from engagements.contacts.models import Contact
    from portal.accounts import services as account_services
    from portal.accounts.models import ApiToken, User
    from portal.notifications import Notification, OutboxEmail
    from portal.tenancy.scoping import system_scope
    from reviews.scheduling.models import Occurrence

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_http import delete_session, make_session

    # No task left in the queues by an earlier run; nothing left unsent in the outbox.
    from portal.celery import app as celery_app

    celery_app.control.purge()
    started_at = timezone.now()
    with system_scope("scale-out benchmark: set up"):
        OutboxEmail.objects.filter(sent_at__isnull=True).update(sent_at=started_at)
        # The clients: named contacts of the engagements with the most cases (a PoC each).
        busiest = list(
            Case.objects.values("engagement_id")
            .annotate(n=Count("id"))
            .order_by("-n", "engagement_id")
            .values_list("engagement_id", flat=True)[: args.clients * 2]
        )
        contacts = []
        for engagement_id in busiest:
            contact = (
                Contact.objects.filter(
                    engagement_id=engagement_id,
                    removed_at__isnull=True,
                    user__is_active=True,
                    user__kind=User.Kind.CUSTOMER,
                )
                .select_related("user")
                .first()
            )
            if contact:
                contacts.append(contact)
            if len(contacts) == args.clients:
                break
        clients, tokens, sessions = [], [], []
        for contact in contacts:
            token, secret = account_services.api_token_create(
                user=contact.user,
                name="bench_scaleout",
                scopes=["read", "write"],
                expires_at=timezone.now() + timedelta(hours=2),
            )
            session = make_session(contact.user)
            tokens.append(token)
            sessions.append(session)
            case = Case.objects.filter(engagement_id=contact.engagement_id).order_by("-pk").first()
            assert case is not None
            clients.append(
                Client(
                    token=secret,
                    cookie=f"{settings.SESSION_COOKIE_NAME}={session}",
                    engagement=contact.engagement_id,
                    case=case.pk,
                )
            )
        # The planted items: open, unanswered, not yet reminded; their thresholds now fall due
        # at known moments spread over the run.
        window = max(10.0, args.duration - 2 * args.scan_interval - 5)
        rng = random.Random(17)  # noqa: S311 (due times, not secrets)
        candidates = list(
            Case.objects.filter(first_response_at__isnull=True, engagement__manager__isnull=False)
            .exclude(status__in=["resolved", "closed"])
            .exclude(pk__in=SlaReminder.objects.values("case_id"))
            .order_by("pk")
            .values_list("pk", flat=True)[: args.planted]
        )
        load_starts = timezone.now() + timedelta(seconds=15)  # after the fleet is up
        planted: dict[int, tuple[datetime, datetime]] = {}
        for pk in candidates:
            remind = load_starts + timedelta(seconds=rng.uniform(3, window * 0.7))
            due = remind + timedelta(seconds=rng.uniform(3, window * 0.3))
            planted[pk] = (remind, due)
            Case.objects.filter(pk=pk).update(reminder_due_at=remind, response_due_at=due)
        occurrences_before = Occurrence.objects.count()

    env = dict(os.environ)
    python = Path(sys.executable)
    logs = var / "logs"
    bouncer: tuple[str, int, Path, subprocess.Popen] | None = None
    if args.pgbouncer:
        bouncer = start_pgbouncer(os.environ["DATABASE_URL"], args.pgbouncer, logs)
        env.update(DATABASE_URL=bouncer[0], DATABASE_POOLING="transaction")
        env.pop("CONN_MAX_AGE", None)
    web_port = free_port()
    fleet = Fleet()
    fleet.start(
        "web",
        [
            str(python.with_name("gunicorn")),
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            str(args.web_workers),
            "--worker-class",
            "gthread",
            "--threads",
            "2",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        env,
        logs,
    )
    celery = [str(python.with_name("celery")), "-A", "portal"]
    for name, queues in (("sla", "sla"), ("mail", "mail"), ("default", "scheduler,celery")):
        fleet.start(
            f"worker-{name}",
            [
                *celery,
                "worker",
                "-Q",
                queues,
                "--hostname",
                f"{name}@%h",
                "--concurrency",
                "1",
                "--loglevel",
                "WARNING",
            ],
            env,
            logs,
        )
    fleet.start(
        "beat",
        [*celery, "beat", "--loglevel", "INFO", "--schedule", str(var / "celerybeat-schedule")],
        env,
        logs,
    )
    report: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while True:
            fleet.check()
            try:
                probe = http.client.HTTPConnection("127.0.0.1", web_port, timeout=5)
                probe.request("GET", "/ping", headers={"X-Forwarded-Proto": "https"})
                if probe.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer /ping")
            time.sleep(0.5)
        # Two scheduler runs at once, as two beats or a retry would send them.
        for _ in range(2):
            celery_app.send_task("reviews.scheduling.tasks.schedule_all", queue="scheduler")
        wait = (load_starts - timezone.now()).total_seconds()
        if wait > 0:
            time.sleep(wait)
        load_from = timezone.now()
        until = time.monotonic() + args.duration
        threads = [
            threading.Thread(target=drive, args=(client, web_port, until, index))
            for index, client in enumerate(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        load_to = timezone.now()
        fleet.check()
        # Drain: every planted reminder claimed, every e-mail of the run sent and received.
        drain_from = time.monotonic()
        with system_scope("scale-out benchmark: drain"):
            while time.monotonic() - drain_from < args.drain:
                claimed = SlaReminder.objects.filter(case_id__in=planted).count()
                unsent = OutboxEmail.objects.filter(
                    created_at__gte=started_at, sent_at__isnull=True
                ).count()
                if claimed >= 2 * len(planted) and unsent == 0:
                    break
                time.sleep(1)
        drained_in = time.monotonic() - drain_from
        time.sleep(2)  # the last SMTP transactions
    finally:
        fleet.stop()
        controller.stop()
        stats: dict[str, str] = {}
        if bouncer is not None:
            stats = pgbouncer_stats(bouncer[1], str(connection.settings_dict["NAME"]))
            bouncer[3].terminate()
            bouncer[3].wait(timeout=30)
            shutil.rmtree(bouncer[2], ignore_errors=True)

    with system_scope("scale-out benchmark: count"):
        reminders = list(
            SlaReminder.objects.filter(case_id__in=planted).values_list(
                "case_id", "threshold", "sent_at", "recipients"
            )
        )
        keys = Counter((case_id, threshold) for case_id, threshold, _at, _r in reminders)
        expected = {(pk, t) for pk in planted for t in ("at_risk", "breached")}
        lost = expected - set(keys)
        doubled = [key for key, n in keys.items() if n > 1]
        lateness = []
        for case_id, threshold, sent_at, _recipients in reminders:
            remind, due = planted[case_id]
            lateness.append((sent_at - (remind if threshold == "at_risk" else due)).total_seconds())
        late = [seconds for seconds in lateness if seconds > args.scan_interval]
        active = set(User.objects.filter(is_active=True).values_list("pk", flat=True))
        expected_notes = sum(
            len({p for p in recipients if p in active}) for *_x, recipients in reminders
        )
        notes = Notification.objects.filter(
            dedupe_key__regex=r"^sla:(" + "|".join(map(str, planted)) + r"):"
        ).count()
        emails = list(
            OutboxEmail.objects.filter(created_at__gte=started_at).values_list(
                "to", "subject", "created_at", "sent_at"
            )
        )
        unsent = [e for e in emails if e[3] is None]
        waits = [(e[3] - e[2]).total_seconds() for e in emails if e[3] is not None]
        received = Counter((to, subject) for to, subject, _body, _at in sink.messages)
        sent_keys = Counter((to, subject) for to, subject, _c, sent in emails if sent)
        never_received = sum((sent_keys - received).values())
        received_twice = sum(
            n - 1
            for n in Counter((to, subj, body) for to, subj, body, _at in sink.messages).values()
            if n > 1
        )
        duplicate_occurrences = (
            Occurrence.objects.values("engagement_id", "deliverable", "period")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        occurrences_after = Occurrence.objects.count()
        raised = [pk for client in clients for pk in client.created]
        raised_found = Case.objects.filter(pk__in=raised).count()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM cases_case")
            total_cases = cursor.fetchone()[0]
        for token in tokens:
            ApiToken.objects.filter(pk=token.pk).delete()
        for session in sessions:
            delete_session(session)

    # PgBouncer's totals since it started (its avg_* columns cover only the last period).
    xacts, wait_us = int(stats.get("total_xact_count", 0)), int(stats.get("total_wait_time", 0))
    latencies: dict[str, list[float]] = {}
    statuses: Counter = Counter()
    for client in clients:
        for key, values in client.latencies.items():
            latencies.setdefault(key, []).extend(values)
        statuses.update(client.statuses)
    total = sum(len(v) for v in latencies.values())
    seconds = (load_to - load_from).total_seconds()
    now = datetime.now(UTC)
    report += [
        f"## Scale-out run, {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"- Data set: {total_cases:,} cases; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end",
        f"- Fleet: gunicorn {args.web_workers} workers × 2 threads; Celery workers `sla`, `mail`, "
        "`scheduler,celery` (concurrency 1 each); 1 beat; SLA scan every "
        f"{args.scan_interval:g} s, outbox every 5 s",
        (
            f"- Database: through PgBouncer, transaction pooling, default_pool_size "
            f"{args.pgbouncer} for {args.web_workers * 2 + 3 + 1} client connections at most "
            f"(web threads + workers + beat); {xacts:,} transactions, clients waited "
            f"{wait_us / 1e6:.1f} s in all for a server connection "
            f"({wait_us / max(xacts, 1) / 1000:.2f} ms a transaction)"
            if args.pgbouncer
            else "- Database: direct connections"
        ),
        f"- Load: {len(clients)} HTTP clients for {seconds:.0f} s: {total:,} requests "
        f"({total / seconds:.1f}/s), every 10th a new case; drained in {drained_in:.0f} s",
        "",
        "| check | expected | produced | lost | duplicated | late |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| SLA reminders of {len(planted)} planted items (at risk + breached) | {len(expected)} "
        f"| {len(reminders)} | {len(lost)} | {len(doubled)} | {len(late)} beyond "
        f"{args.scan_interval:g} s (max {max(lateness, default=0):.1f} s, median "
        f"{median(lateness) if lateness else 0:.1f} s) |",
        f"| their notifications (one per recipient) | {expected_notes} | {notes} | "
        f"{max(0, expected_notes - notes)} | {max(0, notes - expected_notes)} | — |",
        f"| e-mails queued during the run, sent by the mail worker | {len(emails)} | "
        f"{len(emails) - len(unsent)} | {len(unsent)} | — | waited median "
        f"{median(waits) if waits else 0:.1f} s, max {max(waits, default=0):.1f} s |",
        f"| e-mails received by the SMTP sink | {len(emails) - len(unsent)} | "
        f"{len(sink.messages)} | {never_received} | {received_twice} | — |",
        f"| cases raised over HTTP (201) | {len(raised)} | {raised_found} | "
        f"{len(raised) - raised_found} | — | — |",
        f"| occurrences (two scheduler runs at once + beat) | no duplicate per period | "
        f"{occurrences_after - occurrences_before:+,} rows | — | {duplicate_occurrences} | — |",
        "",
        "| request | count | p50 ms | p95 ms | non-2xx |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, values in sorted(latencies.items()):
        bad = sum(n for (k, status), n in statuses.items() if k == key and not 200 <= status < 300)
        report.append(
            f"| {key} | {len(values):,} | {percentile(values, 0.5) * 1000:.0f} | "
            f"{percentile(values, 0.95) * 1000:.0f} | {bad} |"
        )
    text = "\n".join(report) + "\n"
    print(text)
    out = args.out or ROOT / "bench" / "results" / f"scaleout-{now:%Y-%m-%d}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"(written to {out})", file=sys.stderr)


if __name__ == "__main__":
    main()
