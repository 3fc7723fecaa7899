"""gunicorn.conf.py: a threaded worker takes `threads + 1` connections, so load spreads over the
workers and a client's keep-alive connection stays open (a real gunicorn, as deployed)."""

from __future__ import annotations

import http.client
import importlib.util
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Process, free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_KEY_PREFIX")


def _conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_threaded_worker_holds_one_connection_more_than_its_threads():
    conf = _conf()
    assert conf.threaded_worker_connections(4, 1000) == 5
    assert conf.threaded_worker_connections(8, 1000) == 9
    # A sync worker (one thread) is left alone, and so is a value set on the command line.
    assert conf.threaded_worker_connections(1, 1000) == 1000
    assert conf.threaded_worker_connections(4, 4) == 4
    assert conf.threaded_worker_connections(4, 64) == 64


def _gunicorn(tmp_path: Path, *options: str) -> Iterator[int]:
    """A real gunicorn 2 × 4 started from the project root, where it finds gunicorn.conf.py
    (as in the image); yields its port once it answers."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARS}
    env.update({"PORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "portal.settings"})
    server = Process(
        "gunicorn",
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            *options,
        ],
        env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/ping")
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                if server.popen.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{server.tail()}")
                time.sleep(0.2)
        yield port
    finally:
        server.stop(timeout=20)


def _connection_headers(port: int, requests: int) -> list[str]:
    """What the server says of the connection after each of `requests` sent on one socket."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    said = []
    try:
        for _ in range(requests):
            connection.request("GET", "/ping", headers={"X-Forwarded-Proto": "https"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            said.append((response.getheader("Connection") or "").lower())
            if said[-1] == "close":
                break
    finally:
        connection.close()
    return said


@pytest.fixture
def threaded_server(tmp_path) -> Iterator[int]:
    yield from _gunicorn(tmp_path, "--keep-alive", "5")


def test_a_threaded_worker_keeps_a_clients_connection_open(threaded_server):
    assert _connection_headers(threaded_server, 3) == ["keep-alive"] * 3


def test_with_as_many_connections_as_threads_nothing_is_kept_alive(tmp_path):
    """Why `threads + 1` and not `threads`: gunicorn then closes every connection."""
    for port in _gunicorn(tmp_path, "--worker-connections", "4"):
        assert _connection_headers(port, 3) == ["close"]


def test_a_worker_keeps_one_idle_connection_open(threaded_server):
    """The limit at work: a worker holds `threads + 1` connections, so it keeps one idle
    connection open and closes any other after its answer. Two workers, four clients that each
    send a request and stay connected: at most two are kept."""
    clients = [http.client.HTTPConnection("127.0.0.1", threaded_server) for _ in range(4)]
    said = []
    try:
        for client in clients:
            client.request("GET", "/ping", headers={"X-Forwarded-Proto": "https"})
            response = client.getresponse()
            response.read()
            said.append((response.getheader("Connection") or "").lower())
    finally:
        for client in clients:
            client.close()
    assert said[0] == "keep-alive"
    assert 1 <= said.count("keep-alive") <= 2, said
