"""Exactly one beat sends the periodic jobs, however many are started (portal/beat.py).

Two real `celery beat` processes start side by side: on Redis (several hosts) and on the embedded
default (a file lock, one machine). Only one sends jobs; when it is killed, the other takes over.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from tests.conftest import need_service
from tests.faults.harness import Process, RedisServer, wait_for

SENT = "Sending due task heartbeat"
TTL = 3.0
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "REQUIRE_SERVICES")


def start_beat(name: str, var_dir: Path, schedule_dir: Path, **extra: str) -> Process:
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARS}
    env.update(
        {
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_VAR_DIR": str(var_dir),
            "HEARTBEAT_INTERVAL_SECONDS": "0.5",
            "BEAT_LOCK_TTL_SECONDS": str(TTL),
            "CELERY_SKIP_CHECKS": "1",
            "CELERY_TASK_ALWAYS_EAGER": "0",  # sent to the broker, where no worker takes them
            "PYTHONUNBUFFERED": "1",
            **extra,
        }
    )
    schedule_dir.mkdir(parents=True, exist_ok=True)
    return Process(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "beat",
            "--loglevel=INFO",
            "--schedule",
            str(schedule_dir / "beat-schedule"),
        ],
        env,
    )


def one_leads_then_the_other_takes_over(first: Process, second: Process) -> None:
    wait_for(lambda: first.count(SENT) + second.count(SENT) >= 4, "heartbeats sent")
    leader, standby = (first, second) if first.count(SENT) else (second, first)
    standby.wait_for_line("Beat stands by")
    time.sleep(2 * TTL / 3 + 0.5)  # several renewals: the standby never sent meanwhile
    assert standby.count(SENT) == 0, standby.tail()
    assert leader.count(SENT) >= 4
    leader.kill()  # SIGKILL: no release, the lock must expire
    standby.wait_for_line("Beat leads", timeout=TTL * 4)
    wait_for(lambda: standby.count(SENT) >= 2, "heartbeats from the new leader")


def test_two_beats_on_redis_send_each_job_once(tmp_path: Path) -> None:
    need_service(shutil.which("redis-server") is not None, "redis-server (Debian's redis-server)")
    server = RedisServer(tmp_path / "redis")
    (tmp_path / "redis").mkdir()
    server.start()
    beats: list[Process] = []
    try:
        for name in ("beat-a", "beat-b"):  # two hosts: nothing on disk in common
            beats.append(
                start_beat(
                    name,
                    tmp_path / name,
                    tmp_path / name,
                    REDIS_URL=server.url,
                    CELERY_BROKER_URL=server.url,
                )
            )
        one_leads_then_the_other_takes_over(*beats)
    finally:
        for beat in beats:
            beat.kill()
            print(f"--- {beat.name} ---\n{beat.tail(40)}")
        server.stop()


def test_two_beats_on_one_machine_without_redis_send_each_job_once(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"  # the embedded default: one var folder, a file lock in it
    beats = [start_beat(name, var_dir, tmp_path / name) for name in ("beat-a", "beat-b")]
    try:
        one_leads_then_the_other_takes_over(*beats)
    finally:
        for beat in beats:
            beat.kill()
            print(f"--- {beat.name} ---\n{beat.tail(40)}")
