"""The embedded default and the real services: SQLite in WAL mode, Celery worker and beat on the
filesystem transport without any server, and on Redis when REDIS_URL is set."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_KEY_PREFIX")


def embedded_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARS}
    env.update({"DEBUG": "1", "PORTAL_VAR_DIR": str(var_dir), "CELERY_TASK_ALWAYS_EAGER": "0"})
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_embedded_default_is_sqlite_in_wal_mode(tmp_path):
    result = run_python(
        "from django.db import connection\n"
        "cursor = connection.cursor(); cursor.execute('PRAGMA journal_mode')\n"
        "print(connection.vendor, cursor.fetchone()[0])\n"
        "from django.conf import settings; print(settings.CELERY_BROKER_URL)\n"
        "print(settings.CACHES['default']['BACKEND'])",
        embedded_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    vendor_line, broker, cache_backend = result.stdout.split("\n")[:3]
    assert vendor_line == "sqlite wal"
    assert broker == "filesystem://"
    assert cache_backend.endswith("FileBasedCache")


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = embedded_env(tmp_path, DEBUG="0")
    env.pop("SECRET_KEY", None)
    result = run_python("print('started')", env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_service_settings_follow_the_environment(tmp_path):
    env = embedded_env(
        tmp_path,
        DATABASE_URL="postgres://u:p@db.example:5433/portal",
        REDIS_URL="redis://cache.example:6380/2",
    )
    result = run_python(
        "from django.conf import settings as s\n"
        "d = s.DATABASES['default']\n"
        "print(d['ENGINE'], d['HOST'], d['PORT'], d['NAME'])\n"
        "print(s.CELERY_BROKER_URL)\n"
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])",
        env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "django.db.backends.postgresql db.example 5433 portal"
    assert lines[1] == "redis://cache.example:6380/2"
    assert lines[2] == "django.core.cache.backends.redis.RedisCache redis://cache.example:6380/2"


def wait_for_heartbeat(cache, key: str, process: subprocess.Popen, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stamp = cache.get(key)
        if stamp:
            return stamp
        if process.poll() is not None:
            break
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=30)[0]
    pytest.fail(
        f"no heartbeat from beat + worker within {timeout}s; celery said:\n{output[-4000:]}"
    )


def start_worker_and_beat(env: dict[str, str], var_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--beat",
            "--loglevel=INFO",
            "--concurrency=1",
            "--schedule",
            str(var_dir / "beat-schedule"),
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_beat_and_worker_run_schedules_without_any_server(tmp_path):
    """The embedded default: kombu's filesystem transport carries beat's tasks to a real worker."""
    from django.core.cache.backends.filebased import FileBasedCache

    from portal.tasks import HEARTBEAT_CACHE_KEY

    env = embedded_env(tmp_path, HEARTBEAT_INTERVAL_SECONDS="1")
    process = start_worker_and_beat(env, tmp_path)
    try:
        cache = FileBasedCache(str(tmp_path / "cache"), {"KEY_PREFIX": "portal"})
        wait_for_heartbeat(cache, HEARTBEAT_CACHE_KEY, process)
    finally:
        stop(process)
    # Every folder of the transport, the control exchanges included, is under the var folder:
    # nothing is written into the repository (kombu's default control folder is `./control`).
    assert sorted(path.name for path in (tmp_path / "broker" / "control").iterdir()) == [
        "celery.exchange",
        "celery.pidbox.exchange",
    ]


def test_every_broker_folder_is_under_the_var_folder(tmp_path):
    result = run_python(
        "from django.conf import settings\n"
        "for key, value in sorted(settings.CELERY_BROKER_TRANSPORT_OPTIONS.items()):\n"
        "    if key.endswith('folder') or key.startswith('data_folder'): print(key, value)",
        embedded_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    folders = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert set(folders) == {
        "control_folder",
        "data_folder_in",
        "data_folder_out",
        "processed_folder",
    }
    for folder in folders.values():
        assert Path(folder).is_relative_to(tmp_path), folder


def test_beat_and_worker_run_schedules_on_redis(tmp_path, require_redis):
    from django.core.cache.backends.redis import RedisCache

    from portal.tasks import HEARTBEAT_CACHE_KEY

    prefix = f"test-{uuid.uuid4().hex}"
    env = embedded_env(
        tmp_path,
        HEARTBEAT_INTERVAL_SECONDS="1",
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=prefix,
    )
    process = start_worker_and_beat(env, tmp_path)
    try:
        cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": prefix})
        wait_for_heartbeat(cache, HEARTBEAT_CACHE_KEY, process)
    finally:
        stop(process)
        RedisCache(settings.REDIS_URL, {"KEY_PREFIX": prefix}).delete(HEARTBEAT_CACHE_KEY)
