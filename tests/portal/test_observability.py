"""Request ids, log lines an operator can follow, Celery task ids, and errors sent to Sentry when
(and only when) SENTRY_DSN is set."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import Client, override_settings

from portal.observability import ContextFilter, incoming_request_id
from tests.portal import observability_app

ROOT = Path(__file__).resolve().parents[2]
TEST_URLS = "tests.portal.observability_app"


# --- The request id -------------------------------------------------------------------------------
def test_every_response_carries_a_generated_request_id(db):
    client = Client()
    answers = [
        client.get("/ping"),  # JSON
        client.get("/no-such-page/"),  # the HTML 404
        client.get("/api/v1/no-such-endpoint/"),  # the API's 404 in the SPEC §8 format
        client.get("/api/v1/organizations/"),  # the API refusing an anonymous caller
    ]
    assert [answer.status_code for answer in answers] == [200, 404, 404, 401]
    ids = [answer["X-Request-ID"] for answer in answers]
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids), ids
    assert len(set(ids)) == len(ids), "each request gets its own id"


def test_a_sane_incoming_request_id_is_echoed(db):
    response = Client().get("/ping", HTTP_X_REQUEST_ID="lb-7f3a.91_c")
    assert response["X-Request-ID"] == "lb-7f3a.91_c"


@pytest.mark.parametrize(
    "incoming",
    ["", "has space", "new\nline", "x" * 65, "semi;colon", "한글", "a/b"],
)
def test_an_unsafe_incoming_request_id_is_replaced(db, incoming):
    assert incoming_request_id(incoming) != incoming
    response = Client().get("/ping", HTTP_X_REQUEST_ID=incoming)
    replaced = response["X-Request-ID"]
    assert replaced != incoming and len(replaced) == 32
    assert incoming_request_id("x" * 64) == "x" * 64  # the longest accepted


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=TEST_URLS)
def test_a_500_still_carries_the_request_id():
    client = Client(raise_request_exception=False)
    response = client.get("/test-boom/", HTTP_X_REQUEST_ID="trace-500")
    assert response.status_code == 500
    assert response["X-Request-ID"] == "trace-500"


# --- Log lines ------------------------------------------------------------------------------------
@contextmanager
def console_output() -> Iterator[io.StringIO]:
    """What the console handler LOGGING configured writes, while the block runs."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, ContextFilter) for f in handler.filters)
    ]
    assert len(handlers) == 1, "LOGGING has one console handler with the context filter"
    handler = handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=TEST_URLS)
def test_a_log_line_written_during_a_request_carries_its_id():
    with console_output() as output:
        response = Client().get("/test-log/", HTTP_X_REQUEST_ID="req-abc")
        logging.getLogger("tests.observability").warning("after the request")
    assert response.status_code == 200
    lines = [line for line in output.getvalue().splitlines() if "tests.observability" in line]
    inside = next(line for line in lines if "inside the request" in line)
    after = next(line for line in lines if "after the request" in line)
    # time, level, logger, the ids, the message
    assert inside.split(" ")[2:4] == ["WARNING", "tests.observability"], inside
    assert "request_id=req-abc " in inside
    assert "request_id=- " in after, "outside a request there is no id"


def test_a_celery_task_log_line_carries_the_task_id():
    with console_output() as output:
        result = observability_app.log_in_task.apply()
        logging.getLogger("tests.observability").warning("after the task")
    assert result.get() == "done"
    lines = output.getvalue().splitlines()
    inside = next(line for line in lines if "inside the task" in line)
    after = next(line for line in lines if "after the task" in line)
    assert f"task_id={result.id}]" in inside
    assert "task_id=-]" in after


# --- Subprocesses: settings read from the environment ---------------------------------------------
def run_portal(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SENTRY_DSN")
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "1",
            "PORTAL_VAR_DIR": str(tmp_path),
            "ALLOWED_HOSTS": "testserver",
        }
    )
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


REQUEST_IN_SUBPROCESS = f"""
from django.test import Client
from django.test.utils import override_settings
with override_settings(ROOT_URLCONF={TEST_URLS!r}):
    client = Client(raise_request_exception=False)
    print("STATUS", client.get(PATH, HTTP_X_REQUEST_ID="req-json-1").status_code)
"""


def test_json_log_format_writes_one_json_object_per_line(tmp_path):
    result = run_portal(
        "PATH = '/test-log/'\n" + REQUEST_IN_SUBPROCESS, tmp_path, LOG_FORMAT="json"
    )
    assert result.returncode == 0, result.stderr
    assert "STATUS 200" in result.stdout
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    ours = [record for record in records if record["logger"] == "tests.observability"]
    assert len(ours) == 1, result.stderr
    record = ours[0]
    assert {"time", "level", "logger", "request_id", "task_id", "message"} <= set(record)
    assert record["level"] == "WARNING"
    assert record["message"] == "inside the request"
    assert record["request_id"] == "req-json-1"
    assert record["time"].startswith("20") and "T" in record["time"]


# --- Sentry ---------------------------------------------------------------------------------------
@contextmanager
def envelope_receiver() -> Iterator[tuple[list[str], int]]:
    """A real HTTP server on a free loopback port that records the paths POSTed to it."""
    received: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            received.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_an_error_in_a_view_reaches_sentry_when_a_dsn_is_set(tmp_path):
    with envelope_receiver() as (received, port):
        result = run_portal(
            "PATH = '/test-boom/'\n"
            + REQUEST_IN_SUBPROCESS
            + "import sentry_sdk\n"
            + "print('INITIALISED', sentry_sdk.is_initialized())\n"
            + "sentry_sdk.flush(timeout=10)\n",
            tmp_path,
            SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1",
            SENTRY_ENVIRONMENT="test",
        )
    assert result.returncode == 0, result.stderr
    assert "STATUS 500" in result.stdout
    assert "INITIALISED True" in result.stdout
    envelopes = [path for path in received if path.startswith("/api/1/envelope/")]
    assert len(envelopes) >= 1, received


def test_without_a_dsn_sentry_is_not_initialised(tmp_path):
    result = run_portal(
        "import sentry_sdk\nprint('INITIALISED', sentry_sdk.is_initialized())", tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "INITIALISED False" in result.stdout
