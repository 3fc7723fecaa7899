"""Reads whose SQL is compiled once per scope (`portal.tenancy.scoping.rows_compiled_once`) and
the C timestamp loader (`portal.db.use_fast_timestamp_loader`), issue 17: the same rows as the
ORM gives, the open scope's filter in every statement, each run with its own values."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.casework.models import Case
from portal.accounts.services import api_token_create
from portal.db import use_fast_timestamp_loader
from portal.tenancy.scoping import current_scope, raw_sql, rows_compiled_once, tenant_scope

pytestmark = pytest.mark.django_db


def make_case(engagement, raised_by, subject: str, minutes: int) -> Case:
    now = timezone.now()
    return Case.objects.create(
        engagement=engagement,
        kind="incident",
        subject=subject,
        received_at=now - timedelta(minutes=minutes, microseconds=minutes * 7),
        response_due_at=now + timedelta(hours=4),
        reminder_due_at=now + timedelta(hours=3),
        raised_by=raised_by,
    )


@pytest.fixture
def cases(world):
    from portal.tenancy.scoping import system_scope

    with system_scope("test: cases of both tenants"):
        a = [make_case(world.a.objects["engagement"], world.a.poc, f"A{n}", n) for n in range(3)]
        b = make_case(world.b.objects["engagement"], world.b.poc, "B", 1)
    return a, b


def build(ids):
    return Case.objects.order_by().filter(pk__in=ids).values("id", "subject", "received_at")


def test_rows_are_the_orms_each_run_with_its_values_in_the_scope(world, cases):
    a, b = cases
    with tenant_scope(world.a.poc):
        first = rows_compiled_once("test.rows", build, [a[0].pk])
        assert first == list(build([a[0].pk]))
        assert first[0]["received_at"].tzinfo is not None  # converted as the ORM converts
        with CaptureQueriesContext(connection) as queries:
            second = rows_compiled_once("test.rows", build, [a[1].pk])
        assert [row["subject"] for row in second] == ["A1"]
        assert len(queries) == 1
        # Another tenant's id: the scope's filter is in the kept statement.
        assert rows_compiled_once("test.rows", build, [b.pk]) == []
        both = rows_compiled_once("test.rows", build, [a[2].pk, a[0].pk])
        assert sorted(row["subject"] for row in both) == ["A0", "A2"]
        kept = [key for key in current_scope()._extra if key.startswith("compiled:test.rows")]
        assert sorted(kept) == ["compiled:test.rows:1", "compiled:test.rows:2"]
    with tenant_scope(world.b.poc):  # a scope of its own, its own statement
        assert [row["subject"] for row in rows_compiled_once("test.rows", build, [b.pk])] == ["B"]
        assert rows_compiled_once("test.rows", build, [a[0].pk]) == []


def test_a_statement_without_the_values_as_parameters_runs_as_a_queryset(world, cases):
    a, _b = cases
    with tenant_scope(world.a.poc):
        # The id is not a parameter of an empty list: nothing is kept compiled, the ORM answers.
        assert rows_compiled_once("test.none", lambda ids: build([]), [a[0].pk]) == []
        assert current_scope()._extra["compiled:test.none:1"] is False
        # No values at all: a statement kept whole, rows as dicts from `values_list` too.
        subjects = lambda ids: Case.objects.order_by("subject").values_list("subject")  # noqa: E731
        for _ in range(2):
            rows = rows_compiled_once("test.subjects", subjects, [])
            assert rows == [{"subject": "A0"}, {"subject": "A1"}, {"subject": "A2"}]


def test_a_kept_token_reads_each_item_and_no_other_tenants(world, cases):
    a, b = cases
    _token, secret = api_token_create(user=world.a.poc, name="compiled", scopes=["read"])
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    for case in [*a, a[0]]:  # one kept scope, one statement, each item its own answer
        response = client.get(f"/api/v1/cases/{case.pk}/")
        assert response.status_code == 200 and response.json()["id"] == case.pk
    response = client.get(f"/api/v1/cases/{b.pk}/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    for path in ("/api/v1/cases/abc/", "/api/v1/cases/99999999999999999999/"):
        assert client.get(path).status_code == 404
    for _ in range(2):
        listed = [row["id"] for row in client.get("/api/v1/cases/").json()["results"]]
        assert listed == [case.pk for case in a]  # newest first, A's only


def test_timestamps_read_by_the_c_loader_are_djangos(require_postgres):
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    statement = (
        "SELECT timestamptz '2026-03-01 12:34:56.789+09', timestamptz '0001-01-01 00:00:00+00', "
        "timestamptz '2026-12-03 23:59:59.999999-03:30', NULL::timestamptz"
    )
    connection.ensure_connection()
    adapters = connection.connection.adapters
    assert adapters.get_loader(1184, 0).__name__ == "UtcTimestamptzLoader"
    with raw_sql("test: timestamps by the C loader") as cursor:
        cursor.execute(statement)
        fast = cursor.fetchone()
    register_tzloader(UTC, connection.connection)  # Django's own
    try:
        with raw_sql("test: timestamps by Django's loader") as cursor:
            cursor.execute(statement)
            django = cursor.fetchone()
    finally:
        use_fast_timestamp_loader(None, connection)
    assert fast == django
    assert fast[0] == datetime(2026, 3, 1, 3, 34, 56, 789000, tzinfo=UTC)
    assert all(value is None or value.tzinfo is UTC for value in (*fast, *django))


def test_times_are_values_too(world, cases):
    """A time compared with a DateTimeField is a value like an id: each run its own."""
    a, _b = cases
    times = sorted(case.received_at for case in a)

    def since(values):
        return (
            Case.objects.order_by()
            .filter(pk__in=values[:-1], received_at__gte=values[-1])
            .values("subject")
        )

    ids = [case.pk for case in a]
    with tenant_scope(world.a.poc):
        for moment in (*times, times[-1] + timedelta(microseconds=1), times[0] - timedelta(days=1)):
            rows = rows_compiled_once("test.since", since, [*ids, moment])
            assert sorted(row["subject"] for row in rows) == sorted(
                row["subject"] for row in since([*ids, moment])
            )
        shape = f"compiled:test.since:{len(ids) + 1}:{'i' * len(ids)}t"
        assert current_scope()._extra[shape] is not False  # compiled, not the ORM each time


def test_a_detail_whose_holder_is_present_asks_only_whether_anyone_is_away(world, cases):
    """The cover of a held item takes one statement while its holder is present (the
    engagement and the absences of its manager and deputy only when the holder is away)."""
    a, _b = cases
    with system_scope_for_test():
        Case.objects.filter(pk=a[0].pk).update(assignee=world.manager)
    _token, secret = api_token_create(user=world.a.poc, name="compiled", scopes=["read"])
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    client.get(f"/api/v1/cases/{a[0].pk}/")  # the token and its scope kept
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/api/v1/cases/{a[0].pk}/").json()
    assert body["assignee"] == world.manager.pk and body["covering"] is None
    tables = [re.search(r'(?:FROM|UPDATE) ("\w+")', query["sql"])[1] for query in queries]
    # (The token and its scope are read again if the machine took a second between the two.)
    read = [table for table in tables if not table.startswith(('"accounts_', '"tenancy_'))]
    assert read == ['"cases_case"', '"engagements_absence"'], tables


def system_scope_for_test():
    from portal.tenancy.scoping import system_scope

    return system_scope("test: assign an item")
