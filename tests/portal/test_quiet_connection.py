"""A persistent PostgreSQL connection with nothing to read skips Django's `SELECT 1` health check
(`portal.db.skip_health_checks_of_quiet_connections`, issue 17); one the server ended between
requests is still checked and replaced (tests/faults: the same on a real gunicorn)."""

from __future__ import annotations

import select
import time

import pytest
from django.db import connection
from django.test import Client

from portal.db import skip_health_checks_of_quiet_connections

pytestmark = pytest.mark.django_db(transaction=True)


def checked_before_the_next_statement() -> bool:
    connection.health_check_done = False  # as at the start of every request
    skip_health_checks_of_quiet_connections()
    return not connection.health_check_done


def test_an_idle_connection_skips_the_check_one_the_server_ended_does_not(require_postgres):
    connection.ensure_connection()
    connection.health_check_enabled = True
    raw = connection.connection
    assert not checked_before_the_next_statement()

    other = connection.get_new_connection(connection.get_connection_params())
    try:
        other.autocommit = True
        other.execute("SELECT pg_terminate_backend(%s)", [raw.info.backend_pid])
    finally:
        other.close()
    poller = select.poll()
    poller.register(raw.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not poller.poll(100) and time.monotonic() < deadline:
        pass
    assert checked_before_the_next_statement()
    with connection.cursor() as cursor:  # Django's check found it dead and connected anew
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.connection is not raw


def test_a_connection_in_a_transaction_is_left_to_django(require_postgres):
    connection.ensure_connection()
    connection.health_check_enabled = True
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            assert checked_before_the_next_statement()
        finally:
            cursor.execute("ROLLBACK")


def test_requests_answer_with_the_middleware(require_postgres):
    assert Client().get("/ping").status_code == 200
