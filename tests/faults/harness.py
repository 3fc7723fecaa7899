"""Subprocesses for the fault tests: private Redis servers, real Celery workers, gunicorn.

Every process runs in a session of its own, so a SIGKILL reaches the whole process group (a
prefork worker's pool children included), the way a container or machine dies. Waits are for
conditions (a log line, a state in the database), with a deadline, never fixed sleeps.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0


def wait_for(condition: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Process:
    """A subprocess in its own session whose output is collected line by line."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def count(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def wait_for_line(self, text: str, timeout: float = DEADLINE) -> None:
        def seen() -> bool:
            if self.count(text):
                return True
            if self.popen.poll() is not None:
                self._reader.join(timeout=5)
                if self.count(text):
                    return True
                raise AssertionError(f"{self.name} exited first:\n{self.tail()}")
            return False

        try:
            wait_for(seen, f"{text!r} from {self.name}", timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- {self.name} output ---\n{self.tail()}") from None

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.lines[-lines:])

    def kill(self) -> None:
        """SIGKILL to the whole process group: nothing of it gets to clean up."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        self._reader.join(timeout=5)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (a warm shutdown), then SIGKILL if it does not end in time."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
                self.popen.wait(timeout=timeout)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                pass
        # Pool children or a held task may outlive the parent's shutdown: end the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        self._reader.join(timeout=5)


class RedisServer:
    """A private, non-persisting redis-server (as in CI) that a test may restart at will."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.process: Process | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.starts += 1
        self.process = Process(
            f"redis-server:{self.port}",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.dir),
            ],
            dict(os.environ),
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.exceptions.ConnectionError:
                return False

        wait_for(answers, f"redis-server on port {self.port}", timeout=20)
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


class Worker(Process):
    """`python -m tests.faults.worker` (the portal's Celery worker plus failpoints) on a queue."""

    def __init__(
        self,
        name: str,
        *,
        broker_url: str,
        queue: str,
        var_dir: Path,
        concurrency: int = 1,
        faults: dict[str, str] | None = None,
    ) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("FAULTS_")}
        env.update(
            {
                "DATABASE_URL": database_url(),
                "CELERY_BROKER_URL": broker_url,
                "CELERY_TASK_ALWAYS_EAGER": "0",
                "PORTAL_VAR_DIR": str(var_dir),
                "DJANGO_SETTINGS_MODULE": "portal.settings",
                "PYTHONUNBUFFERED": "1",
                # Django's system checks run elsewhere in CI; here they only slow every start.
                "CELERY_SKIP_CHECKS": "1",
                **(faults or {}),
            }
        )
        super().__init__(
            name,
            [
                sys.executable,
                "-m",
                "tests.faults.worker",
                "worker",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                f"--concurrency={concurrency}",
                f"--hostname={name}@%h",
                "-Q",
                queue,
            ],
            env,
        )

    def wait_ready(self) -> None:
        self.wait_for_line(" ready.")

    def succeeded(self, task_id: str) -> int:
        return self.count(f"[{task_id}] succeeded")


RESTART_VISIBILITY_SECONDS = 1.0


def restart_faults() -> dict[str, str]:
    """The failpoint settings of a worker started after another was killed mid-task: Redis hands
    it the killed task at its one sweep at start-up (worker.py), which restores only messages
    delivered longer than the visibility timeout ago. Waits that long first, so that the sweep
    cannot run too early however fast the restarted worker starts."""
    time.sleep(RESTART_VISIBILITY_SECONDS + 0.5)
    return {"FAULTS_VISIBILITY_TIMEOUT": str(RESTART_VISIBILITY_SECONDS)}


def sender(broker_url: str) -> Celery:
    """A Celery client of its own for a private broker (the portal's app stays as configured)."""
    client = Celery("fault-tests", broker=broker_url, set_as_current=False)
    client.conf.task_ignore_result = True
    return client


def backends_idle_in_transaction() -> list[int]:
    """Other sessions of the test database holding a transaction open (a held failpoint)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'idle in transaction'"
        )
        return [row[0] for row in cursor.fetchall()]


def other_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        return [row[0] for row in cursor.fetchall()]
