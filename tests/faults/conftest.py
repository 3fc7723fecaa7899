"""Fixtures of the fault tests: a private Redis per test and workers that are always cleaned up."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.conftest import need_service
from tests.faults.harness import RedisServer, Worker


@pytest.fixture
def require_fault_services() -> None:
    need_service(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")
    need_service(shutil.which("redis-server") is not None, "redis-server (Debian's redis-server)")


@pytest.fixture
def redis_server(require_fault_services: None, tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_worker(redis_server: RedisServer, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Start a worker on the test's private Redis; every worker is stopped after the test.
    With wait=False the caller arranges data while it boots and calls `wait_ready()` itself."""
    started: list[Worker] = []
    queue = f"faults-{os.getpid()}"

    def start(name: str, *, wait: bool = True, **kwargs: Any) -> Worker:
        kwargs.setdefault("broker_url", redis_server.url)
        kwargs.setdefault("queue", queue)
        kwargs.setdefault("var_dir", tmp_path / name)
        worker = Worker(name, **kwargs)
        started.append(worker)
        if wait:
            worker.wait_ready()
        return worker

    start.queue = queue  # type: ignore[attr-defined]
    try:
        yield start
    finally:
        for worker in started:
            worker.kill()  # what it did is checked already; a warm shutdown only takes time
            # Shown by pytest only when the test failed.
            print(f"--- {worker.name} ---\n{worker.tail(80)}")
