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


# --- Kept across requests: the same actor, the same contents of the scope --------------------


class Builds:
    """`build`, counting how often a statement is built (each build compiles it)."""

    def __init__(self, build) -> None:
        self.build = build
        self.count = 0

    def __call__(self, values):
        self.count += 1
        return self.build(values)


def test_a_statement_is_kept_for_the_next_scope_of_the_same_actor(world, cases):
    a, b = cases
    built = Builds(build)
    for case in a:  # three requests: one build (with stand-ins), then each run with its id
        with tenant_scope(world.a.poc):
            rows = rows_compiled_once("test.kept", built, [case.pk])
        assert [row["subject"] for row in rows] == [case.subject]
    assert built.count == 1
    with tenant_scope(world.a.poc):  # the kept statement carries A's filter
        assert rows_compiled_once("test.kept", built, [b.pk]) == []
    with tenant_scope(world.b.poc):  # another actor: a statement of its own, B's filter
        assert [r["subject"] for r in rows_compiled_once("test.kept", built, [b.pk])] == ["B"]
        assert rows_compiled_once("test.kept", built, [a[0].pk]) == []
    assert built.count == 2


def test_a_change_of_what_the_scope_holds_builds_the_statement_again(world, cases):
    """A manager handed B's engagement sees its item at once; taken off A's, no longer A's."""
    a, b = cases
    built = Builds(build)
    ids = [a[0].pk, b.pk]
    with tenant_scope(world.manager):
        assert [r["subject"] for r in rows_compiled_once("test.contents", built, ids)] == ["A0"]
    b_engagement = world.b.objects["engagement"]
    b_engagement.deputy = world.manager
    b_engagement.save(update_fields=["deputy"])
    with tenant_scope(world.manager):
        rows = rows_compiled_once("test.contents", built, ids)
    assert sorted(r["subject"] for r in rows) == ["A0", "B"]
    assert built.count == 2
    a_engagement = world.a.objects["engagement"]
    a_engagement.manager = world.other_manager
    a_engagement.save(update_fields=["manager"])
    with tenant_scope(world.manager):
        assert [r["subject"] for r in rows_compiled_once("test.contents", built, ids)] == ["B"]
    assert built.count == 3


def test_a_customer_who_leaves_an_organization_no_longer_reads_it(world, cases):
    a, _b = cases
    built = Builds(build)
    with tenant_scope(world.a.poc):
        assert len(rows_compiled_once("test.member", built, [a[0].pk])) == 1
    from portal.tenancy.models import Membership

    Membership.objects.filter(user=world.a.poc).update(is_active=False)
    with tenant_scope(world.a.poc):
        assert rows_compiled_once("test.member", built, [a[0].pk]) == []


def test_a_value_changed_before_it_is_a_parameter_is_not_kept(world, cases):
    """`values[-1] - 1 day` is not the stand-in: kept, the statement would keep the stand-in's
    day. It runs as a queryset each time instead, with the right answer."""
    a, _b = cases
    times = sorted(case.received_at for case in a)

    def day_before(values):
        return (
            Case.objects.order_by()
            .filter(pk__in=values[:-1], received_at__gte=values[-1] - timedelta(days=1))
            .values("subject")
        )

    ids = [case.pk for case in a]
    for moment in (times[0] + timedelta(days=1), times[-1] + timedelta(days=2)):
        with tenant_scope(world.a.poc):
            rows = rows_compiled_once("test.derived", day_before, [*ids, moment])
            expected = sorted(row["subject"] for row in day_before([*ids, moment]))
            assert sorted(row["subject"] for row in rows) == expected
            shape = f"compiled:test.derived:{len(ids) + 1}:{'i' * len(ids)}t"
            assert current_scope()._extra[shape] is False
    assert expected == []


def test_dates_are_values_and_a_value_may_be_used_twice(world, cases):
    a, _b = cases
    today = timezone.localdate(a[0].received_at)
    on_today = sorted(c.subject for c in a if timezone.localdate(c.received_at) == today)

    def received(values):
        return (
            Case.objects.order_by()
            .filter(received_at__date__gte=values[0], received_at__date__lte=values[0])
            .values("subject")
        )

    built = Builds(received)
    for day, expected in ((today, on_today), (today - timedelta(days=3), [])):
        with tenant_scope(world.a.poc):
            rows = rows_compiled_once("test.dates", built, [day])
        assert sorted(row["subject"] for row in rows) == expected
    assert built.count == 1


def test_a_statement_reading_what_a_scope_keeps_aside_is_kept_for_that_scope_alone(world, cases):
    a, _b = cases

    def aside(values):
        current_scope()._extra.setdefault("test.aside", values[0])
        return build(values)

    built = Builds(aside)
    for case in a[:2]:
        with tenant_scope(world.a.poc):
            assert len(rows_compiled_once("test.aside", built, [case.pk])) == 1
            assert len(rows_compiled_once("test.aside", built, [case.pk])) == 1
    assert built.count == 2  # once in each scope


def test_instances_are_the_orms_with_their_related_objects_and_annotations(world, cases):
    """`instances_compiled_once`: the model instances the ORM makes of the same rows — fields
    (deferred ones loaded on access), select_related objects, annotations — kept across
    scopes of the same actor, another tenant's rows never among them."""
    from django.db.models import F, Value

    from portal.tenancy.scoping import instances_compiled_once

    a, b = cases
    with system_scope_for_test():
        Case.objects.filter(pk=a[1].pk).update(assignee=world.manager)

    def held(values):
        return (
            Case.objects.filter(pk__in=values[:-1], received_at__lte=values[-1])
            .select_related("engagement__organization", "assignee")
            .only(
                "id",
                "subject",
                "engagement__name",
                "engagement__organization__name",
                "assignee__name",
                "assignee__email",
            )
            .annotate(mark=Value(7), due=F("response_due_at"))
            .order_by("id")
        )

    def both(values):
        return held(values).order_by().union(held(values).order_by(), all=True)

    built = Builds(held)
    ids = [*(case.pk for case in a), b.pk]
    for _ in range(2):
        with tenant_scope(world.a.poc):
            kept = instances_compiled_once("test.instances", built, [*ids, timezone.now()])
            orm = list(held([*ids, timezone.now()]))
            unioned = instances_compiled_once("test.union", both, [*ids, timezone.now()])
        assert [case.pk for case in kept] == [case.pk for case in orm] == [c.pk for c in a]
        assert sorted(case.pk for case in unioned) == sorted(2 * [c.pk for c in a])
        for mine, theirs in zip(kept, orm, strict=True):
            assert (mine.subject, mine.mark, mine.due) == (theirs.subject, 7, theirs.due)
            assert mine.engagement.organization.name == theirs.engagement.organization.name
            assert mine.assignee_id == theirs.assignee_id
            assert (mine.assignee and mine.assignee.email) == (
                theirs.assignee and theirs.assignee.email
            )
            assert mine.get_deferred_fields() == theirs.get_deferred_fields()
    assert built.count == 1
    with CaptureQueriesContext(connection) as queries, tenant_scope(world.a.poc):
        instances_compiled_once("test.instances", built, [*ids, timezone.now()])
    read = [query["sql"] for query in queries if '"cases_case"' in query["sql"]]
    assert len(read) == 1 and built.count == 1  # kept: no building, no prefetch


def test_a_scope_covers_the_engagements_a_manager_serves_and_no_other(world):
    from portal.tenancy.scoping import scope_covers_engagements

    mine, theirs = world.a.objects["engagement"].pk, world.b.objects["engagement"].pk
    with tenant_scope(world.manager):
        assert scope_covers_engagements([mine]) is True
        assert scope_covers_engagements([]) is True
        assert scope_covers_engagements([mine, theirs]) is False
    with tenant_scope(world.other_manager):
        assert scope_covers_engagements([mine]) is False
    # A customer's scope is by organization and an admin's has none: never "covered".
    for user in (world.a.poc, world.admin):
        with tenant_scope(user):
            assert scope_covers_engagements([mine]) is False


def test_a_bounded_count_stops_at_its_bound_in_the_scope(world, cases):
    """`count_compiled_once(..., at_most=n)`: min(rows, n), one statement compiled once per
    scope, the scope's filter in it (another tenant's rows never counted)."""
    from portal.tenancy.scoping import count_compiled_once

    _cases = cases  # A0–A2 of tenant a, B of tenant b

    def received_after(values):
        return Case.objects.filter(received_at__gt=values[0])

    since = timezone.now() - timedelta(days=1)
    with tenant_scope(world.a.poc):
        assert count_compiled_once("test.count", received_after, [since], at_most=2) == 2
        assert count_compiled_once("test.count", received_after, [since], at_most=10) == 3
        with CaptureQueriesContext(connection) as queries:
            later = count_compiled_once(
                "test.count",
                received_after,
                [timezone.now() - timedelta(minutes=1, seconds=30)],
                at_most=10,
            )
        assert later == 2  # A0 and A1: the time is a value of the kept statement
        assert len(queries) == 1 and "LIMIT 10" in queries[0]["sql"]
        assert count_compiled_once("test.count", received_after, [since]) == 3  # unbounded
    with tenant_scope(world.b.poc):
        assert count_compiled_once("test.count", received_after, [since], at_most=10) == 1
    with pytest.raises(ValueError):
        count_compiled_once("test.count", received_after, [since], at_most=0)
