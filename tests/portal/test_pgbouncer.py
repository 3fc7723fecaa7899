"""The portal behind PgBouncer in transaction pooling (DATABASE_POOLING=transaction), on a real
PgBouncer started here in front of the test database with a pool of 2 server connections.

A separate process with the portal's settings pointed at PgBouncer runs the flows that take
locks or keep cursors (tests/portal/pgbouncer_flows.py) from several threads at once: more
clients than server connections, so every transaction may land on another server connection
and session state left by one would reach the next. Then both server connections are inspected
for anything a session left behind: cursors, prepared statements, advisory locks, LISTEN
channels, temporary tables, changed settings.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from cases.casework.models import Case
from tests.conftest import need_service
from tests.settings_probe import settings_process

ROOT = Path(__file__).resolve().parents[2]
POOL_SIZE = 2

pytestmark = pytest.mark.services


@dataclass
class Bouncer:
    port: int
    database: str
    log: Path

    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def pgbouncer(require_postgres: None) -> Iterator[Bouncer]:
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    need_service(binary is not None, "pgbouncer (Debian package pgbouncer)")
    assert binary is not None
    settings_dict = connection.settings_dict
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o755)
    port = _free_port()
    (folder / "userlist.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = host={settings_dict['HOST'] or '127.0.0.1'} port={settings_dict['PORT'] or 5432}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {folder / 'userlist.txt'}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {POOL_SIZE}\n"
        "max_client_conn = 100\n"
        "server_reset_query =\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
    )
    for name in ("userlist.txt", "pgbouncer.ini"):
        (folder / name).chmod(0o644)
    # PgBouncer refuses to run as root: as root (CI, this machine) it drops to another user
    # with -u; anyone else runs it as themselves.
    command = [binary]
    if os.geteuid() == 0:
        user = "postgres"
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = "nobody"
        command += ["-u", user]
    command.append(str(folder / "pgbouncer.ini"))
    log = folder / "pgbouncer.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                psycopg.connect(
                    host="127.0.0.1", port=port, user="postgres", dbname=settings_dict["NAME"]
                ).close()
                break
            except psycopg.OperationalError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"pgbouncer did not start:\n{log.read_text()}")
                time.sleep(0.1)
        yield Bouncer(port=port, database=settings_dict["NAME"], log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def run_flows(bouncer: Bouncer, arguments: dict[str, Any]) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": bouncer.url(),
        "DATABASE_POOLING": "transaction",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CONN_MAX_AGE", None)
    run = subprocess.run(
        [sys.executable, "-m", "tests.portal.pgbouncer_flows", json.dumps(arguments)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert run.returncode == 0 and lines, f"{run.stdout[-3000:]}\n{run.stderr[-6000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def server_state(bouncer: Bouncer) -> list[dict[str, Any]]:
    """What each of the pool's server connections holds: POOL_SIZE clients each inside a
    transaction at once, so each sits on a server connection of its own."""
    clients = [
        psycopg.connect(
            host="127.0.0.1", port=bouncer.port, user="postgres", dbname=bouncer.database
        )
        for _ in range(POOL_SIZE)
    ]
    try:
        states = []
        for client in clients:  # each opens a transaction and keeps it while the next opens
            row = client.execute(
                "SELECT pg_backend_pid(),"
                " (SELECT count(*) FROM pg_cursors),"
                " (SELECT count(*) FROM pg_prepared_statements),"
                " (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                "   AND pid = pg_backend_pid()),"
                " (SELECT count(*) FROM pg_listening_channels()),"
                " (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()),"
                " current_setting('synchronous_commit'), current_setting('lock_timeout'),"
                " current_setting('statement_timeout')",
                prepare=False,
            ).fetchone()
            assert row is not None
            states.append(
                dict(
                    zip(
                        (
                            "pid",
                            "cursors",
                            "prepared",
                            "advisory_locks",
                            "listening",
                            "temp_tables",
                            "synchronous_commit",
                            "lock_timeout",
                            "statement_timeout",
                        ),
                        row,
                        strict=True,
                    )
                )
            )
        return states
    finally:
        for client in clients:
            client.close()


@pytest.mark.django_db(transaction=True)
def test_key_flows_work_through_pgbouncer_transaction_pooling(pgbouncer: Bouncer, world) -> None:
    engagement = world.a.objects["engagement"]
    result = run_flows(
        pgbouncer, {"engagement": engagement.pk, "poc": world.a.poc.pk, "future_days": 30}
    )
    assert result["errors"] == [], "\n".join(result["errors"])
    # The portal's settings, as DATABASE_POOLING=transaction makes them.
    assert result["port"] == pgbouncer.port
    assert result["server_side_cursors_disabled"] is True
    assert result["prepare_threshold"] is None
    assert result["conn_max_age"] == 0

    raised = result["raised"]
    assert raised["statuses"] == [201] * 6
    assert raised["replayed"] and raised["replayed_id"] == raised["ids"][0]
    assert result["listed"]["statuses"] == {"200": 16}
    with_bouncer = set(Case.objects.values_list("pk", flat=True))
    assert set(raised["ids"]) <= with_bouncer
    assert result["listed"]["iterated"] >= 1
    assert result["jobs"]["runs"] == 3
    assert {"cases.tasks.scan_sla", "portal.tasks.deliver_outbox"} < set(result["jobs"]["tasks"])
    assert "reviews.scheduling.tasks.schedule_all" in result["jobs"]["tasks"]
    iterated = result["iterated_at_once"]
    assert len(set(iterated)) == 1 and iterated[0] > 3 * len(raised["ids"]), iterated

    # Six severity-1 incidents 30 days later: each past its 75 % and its deadline. Two scans at
    # once claimed each (case, threshold) once; three deliveries at once sent each e-mail once.
    scans = result["scans"]
    assert sum(s["at_risk"] for s in scans) == 6 and sum(s["breached"] for s in scans) == 6
    assert result["reminders"] == 12 and result["reminder_duplicates"] == 0
    assert result["outbox_unsent"] == 0
    assert result["mail_duplicates"] == 0
    # Every e-mail goes through the outbox: each row sent by one of the deliveries, once.
    assert result["mails_sent"] == result["outbox_rows"]
    assert result["mails_sent"] >= 12  # reminders to the manager and deputy at least

    # Nothing a session could leave is left on either server connection.
    states = server_state(pgbouncer)
    assert len({state["pid"] for state in states}) == POOL_SIZE
    for state in states:
        assert state["cursors"] == 0, state
        assert state["prepared"] == 0, state
        assert state["advisory_locks"] == 0, state
        assert state["listening"] == 0, state
        assert state["temp_tables"] == 0, state
        assert state["synchronous_commit"] == "on", state
        assert state["lock_timeout"] == "0", state
        assert state["statement_timeout"] == "0", state


def test_pooling_settings_follow_the_environment() -> None:
    """PGBOUNCER=1 is DATABASE_POOLING=transaction; SQLite is left alone; a typo is refused."""
    code = (
        "import json; from django.conf import settings; d = settings.DATABASES['default']; "
        "print(json.dumps([d.get('DISABLE_SERVER_SIDE_CURSORS', False), "
        "d.get('OPTIONS', {}).get('prepare_threshold', 'unset'), d.get('CONN_MAX_AGE')]))"
    )

    def settings_with(**values: str) -> subprocess.CompletedProcess:
        return settings_process(
            code, drop={"PGBOUNCER", "DATABASE_POOLING", "CONN_MAX_AGE"}, **values
        )

    postgres = "postgres://postgres@127.0.0.1:6432/portal"
    pooled = settings_with(DATABASE_URL=postgres, PGBOUNCER="1")
    assert json.loads(pooled.stdout.splitlines()[-1]) == [True, None, 0], pooled.stderr
    direct = settings_with(DATABASE_URL=postgres)
    assert json.loads(direct.stdout.splitlines()[-1]) == [False, "unset", 60], direct.stderr
    sqlite = settings_with(DATABASE_URL="sqlite:////tmp/x.sqlite3", DATABASE_POOLING="transaction")
    assert json.loads(sqlite.stdout.splitlines()[-1])[0] is False, sqlite.stderr
    wrong = settings_with(DATABASE_URL=postgres, DATABASE_POOLING="statement")
    assert wrong.returncode != 0 and "DATABASE_POOLING" in wrong.stderr
