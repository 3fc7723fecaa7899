"""PostgreSQL drops the connection serving a request (pg_terminate_backend) on a real server:
gunicorn, with persistent connections (CONN_MAX_AGE) and CONN_HEALTH_CHECKS as in production.

The request answers a clean 503 — the §8 error body under /api/, a plain translated page
elsewhere — never a 500 or a traceback, and the next request works. A persistent connection
that died between requests is replaced without the user noticing."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.db import connection, transaction
from django.test import Client

from cases.casework.models import Case
from cases.casework.services import case_raise
from portal.accounts.services import api_token_create
from tests.cases.conftest import engagement_with_contact
from tests.faults.harness import Process, database_url, free_port, other_backends, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class Server:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": database_url(),
                "CONN_MAX_AGE": "60",
                "PORTAL_VAR_DIR": str(tmp_path),
                "DJANGO_SETTINGS_MODULE": "portal.settings",
                "PYTHONUNBUFFERED": "1",
                # Every request reads its token, so the connection can be dropped under the
                # authentication's query (a token kept for its second would skip it).
                "API_TOKEN_CACHE_SECONDS": "0",
            }
        )
        self.process = Process(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--timeout",
                "60",
            ],
            env,
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self) -> None:
        def answers() -> bool:
            if self.process.popen.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.process.tail()}")
            try:
                return requests.get(self.url("/ping"), timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(answers, "gunicorn to answer")


@pytest.fixture(scope="module")
def server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from tests.conftest import need_service

    need_service(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")
    running = Server(tmp_path_factory.mktemp("gunicorn"))
    try:
        running.wait_ready()
        yield running
    finally:
        running.process.stop()
        print(f"--- gunicorn ---\n{running.process.tail(80)}")


@pytest.fixture
def manager_session() -> dict[str, object]:
    """A manager with one engagement and an open item; a session cookie and an API token."""
    engagement, _contact = engagement_with_contact("premium", "UTC")
    case = case_raise(
        acting_user=engagement.manager,
        engagement=engagement,
        kind="inquiry",
        severity=2,
        subject="Printer on fire",
    )
    client = Client()
    client.force_login(engagement.manager)
    _token, plain = api_token_create(user=engagement.manager, name="faults", scopes=["read"])
    return {
        "case": case,
        "cookies": {"sessionid": client.cookies["sessionid"].value},
        "headers": {"Authorization": f"Bearer {plain}"},
    }


def blocked_by_this_session() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
        )
        return [row[0] for row in cursor.fetchall()]


def get(server: Server, path: str, who: dict[str, object], **headers: str) -> requests.Response:
    if path.startswith("/api/"):
        return requests.get(server.url(path), headers={**who["headers"], **headers}, timeout=60)
    return requests.get(server.url(path), cookies=who["cookies"], headers=headers, timeout=60)


def drop_under_request(
    server: Server, path: str, who: dict[str, object], table: str, **headers: str
) -> requests.Response:
    """Hold `table` locked so the request waits on it mid-way, terminate the backend serving
    it, and return what the request answers."""
    with (
        ThreadPoolExecutor(max_workers=1) as pool,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        pending = pool.submit(get, server, path, who, **headers)
        (serving,) = wait_for(blocked_by_this_session, f"{path} to wait on {table}")
        cursor.execute("SELECT pg_terminate_backend(%s)", [serving])
        return pending.result(timeout=60)


API = "/api/v1/cases/"
PAGE = "/cases/"


@pytest.mark.parametrize(
    ("path", "table"),
    [
        (API, Case._meta.db_table),  # in the view (DRF's exception handler answers 500 first)
        (API, "accounts_apitoken"),  # in DRF's authentication
    ],
    ids=["api-view", "api-authentication"],
)
def test_api_request_whose_connection_is_dropped_answers_503(server, manager_session, path, table):
    assert get(server, path, manager_session).status_code == 200
    response = drop_under_request(server, path, manager_session, table)
    assert response.status_code == 503, response.text[:2000]
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Retry-After"] == "5"
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert set(body) == {"code", "detail", "fields"} and body["fields"] == {}
    assert "Traceback" not in response.text
    # The broken connection went away with the request; the next one works.
    after = get(server, path, manager_session)
    assert after.status_code == 200
    assert [item["id"] for item in after.json()["results"]] == [manager_session["case"].pk]


@pytest.mark.parametrize(
    ("table", "language"),
    [
        (Case._meta.db_table, "en"),  # in the view
        ("django_session", "ko"),  # in the session middleware, outside any view
    ],
    ids=["page-view", "page-middleware"],
)
def test_page_whose_connection_is_dropped_answers_a_plain_503_page(
    server, manager_session, table, language
):
    assert get(server, PAGE, manager_session).status_code == 200
    response = drop_under_request(
        server, PAGE, manager_session, table, **{"Accept-Language": language}
    )
    assert response.status_code == 503, response.text[:2000]
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Retry-After"] == "5"
    assert f'<html lang="{language}">' in response.text
    if language == "en":
        assert "Service unavailable" in response.text
        assert "try again" in response.text
    assert "Traceback" not in response.text and "Server error" not in response.text
    after = get(server, PAGE, manager_session)
    assert after.status_code == 200
    assert "Printer on fire" in after.text


def test_persistent_connection_dropped_between_requests_is_replaced(server, manager_session):
    assert get(server, API, manager_session).status_code == 200
    serving = other_backends()
    assert serving, "gunicorn keeps its connection open between requests (CONN_MAX_AGE)"
    with connection.cursor() as cursor:
        for pid in serving:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    wait_for(lambda: not set(other_backends()) & set(serving), "the backends to end")
    assert get(server, API, manager_session).status_code == 200
    assert get(server, PAGE, manager_session).status_code == 200
    assert set(other_backends()).isdisjoint(serving)


def test_database_unreachable_answers_503_until_it_is_back(manager_session, monkeypatch):
    """The database down: not even a connection can be opened. In process; PostgreSQL with the
    connection pointed at a port nothing listens on, SQLite (the embedded default) with a
    database file that cannot be opened."""
    api = Client(raise_request_exception=False, headers=manager_session["headers"])
    page = Client(raise_request_exception=False, headers={"Accept-Language": "en"})
    page.cookies["sessionid"] = manager_session["cookies"]["sessionid"]
    if connection.vendor == "postgresql":
        connection.close()
        monkeypatch.setitem(connection.settings_dict, "PORT", str(free_port()))
    else:
        import sqlite3

        def cannot_open(*args: object, **kwargs: object) -> None:
            raise sqlite3.OperationalError("unable to open database file")

        # The test database lives in memory while a connection holds it: set the open one
        # aside (monkeypatch keeps it) so that the next query has to connect anew, and fails.
        monkeypatch.setattr(connection, "connection", None)
        monkeypatch.setattr(connection, "get_new_connection", cannot_open)
    response = api.get(API)
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    response = page.get(PAGE)
    assert response.status_code == 503
    assert b"Service unavailable" in response.content
    monkeypatch.undo()  # PostgreSQL is back
    assert api.get(API).status_code == 200
    assert page.get(PAGE).status_code == 200
