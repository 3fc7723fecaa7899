"""Row locks in one global order (portal.locks): two engagements with manager and deputy swapped
raise items at once without deadlocking; a transaction PostgreSQL still aborts for a lock
conflict is retried once, and what is left answers 503, never 500."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from psycopg import errors as pg_errors

from cases.casework import services
from cases.casework.models import Case
from engagements.contacts.models import Contact
from portal.locks import atomic_retried, is_lock_conflict
from portal.tenancy.scoping import system_scope
from tests.conftest import page_client, signed_in
from tests.factories import EngagementFactory, ManagerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

LOCK_HOLD_SECONDS = 0.6  # longer than it takes the other thread to take its first lock


def at_cap(manager, cap: int) -> None:
    load = EngagementFactory(manager=manager)
    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            engagement=load,
            kind="inquiry",
            severity=3,
            subject=f"load {n}",
            response_due_at=now,
            reminder_due_at=now,
            raised_by=manager,
            assignee=manager,
        )
        for n in range(cap)
    )


def swapped_pair():
    """Two engagements whose manager and deputy are the same two people, swapped; both at the
    plan's cap, so raising an item looks at (and locks) the manager and then the deputy."""
    first, second = ManagerFactory(), ManagerFactory()
    engagements = [
        EngagementFactory(manager=first, deputy=second),
        EngagementFactory(manager=second, deputy=first),
    ]
    cap = engagements[0].plan.max_open_cases_per_manager
    at_cap(first, cap)
    at_cap(second, cap)
    contacts = []
    for engagement in engagements:
        contact = MembershipFactory(organization=engagement.organization).user
        Contact.objects.create(engagement=engagement, user=contact)
        contacts.append(contact)
    return engagements, contacts


@pytest.mark.django_db(transaction=True)
def test_swapped_manager_and_deputy_raise_at_once_without_deadlock(
    require_postgres, monkeypatch, caplog
):
    """Each raise holds the lock of the first person it looks at while the other takes its own
    first lock (the slowed count). Locked one by one in the engagement's order (manager, then
    deputy) the two wait for each other and PostgreSQL aborts one with DeadlockDetected; locked
    together in id order the second simply waits for the first."""
    engagements, contacts = swapped_pair()
    original = services.open_case_count

    def slow_count(manager):
        count = original(manager)
        time.sleep(LOCK_HOLD_SECONDS)
        return count

    monkeypatch.setattr(services, "open_case_count", slow_count)
    barrier = threading.Barrier(2)
    outcomes: dict[int, object] = {}

    def raise_item(index: int) -> None:
        try:
            with system_scope("concurrency test"):
                barrier.wait(timeout=10)
                case = services.case_raise(
                    acting_user=contacts[index],
                    engagement=engagements[index],
                    kind="inquiry",
                    severity=2,
                    subject=f"swapped {index}",
                )
            outcomes[index] = case.pk
        except Exception as error:  # the outcome under test
            outcomes[index] = error
        finally:
            connection.close()

    caplog.set_level(logging.WARNING, logger="portal.locks")
    threads = [threading.Thread(target=raise_item, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(isinstance(outcome, int) for outcome in outcomes.values()), outcomes
    assert len(outcomes) == 2
    # Not rescued by the retry: no transaction was aborted for a lock conflict at all.
    assert not [record for record in caplog.records if "lock conflict" in record.getMessage()]
    raised = Case.objects.filter(subject__startswith="swapped ")
    assert raised.count() == 2
    assert not raised.filter(assignee__isnull=False).exists()  # both at the cap: the queue


def deadlock() -> OperationalError:
    try:
        raise pg_errors.DeadlockDetected("deadlock detected")
    except pg_errors.DeadlockDetected as cause:
        error = OperationalError("deadlock detected")
        error.__cause__ = cause
        return error


def test_lock_conflicts_are_recognised():
    assert is_lock_conflict(deadlock())
    serialization = OperationalError("could not serialize access")
    serialization.__cause__ = pg_errors.SerializationFailure("could not serialize access")
    assert is_lock_conflict(serialization)
    assert not is_lock_conflict(OperationalError("server closed the connection unexpectedly"))


@pytest.mark.django_db(transaction=True)
def test_an_aborted_transaction_is_retried_once():
    calls = []

    @atomic_retried
    def twice_unlucky():
        calls.append(connection.in_atomic_block)
        if len(calls) <= 2:
            raise deadlock()
        return "done"

    with pytest.raises(OperationalError):
        twice_unlucky()
    assert calls == [True, True]  # each run in a transaction of its own, and only one retry
    calls.clear()
    calls.append(True)  # one failure left: the retry succeeds
    assert twice_unlucky() == "done"
    assert calls == [True, True, True]


@pytest.mark.django_db(transaction=True)
def test_a_nested_transaction_is_not_retried_alone():
    calls = []

    @atomic_retried
    def unlucky():
        calls.append(1)
        raise deadlock()

    with pytest.raises(OperationalError), transaction.atomic():
        unlucky()
    assert calls == [1]


def test_a_lock_conflict_left_over_answers_503_not_500(world, monkeypatch):
    """Should a conflict still escape (in an outer transaction, or twice), the API answers 503
    in the error format with Retry-After, and a page a plain 503."""

    def conflicted(**kwargs):
        raise deadlock()

    monkeypatch.setattr(services, "case_raise", conflicted)
    engagement = world.a.objects["engagement"]
    response = signed_in(world.a.poc).post(
        "/api/v1/cases/",
        {"engagement": engagement.pk, "kind": "inquiry", "severity": 2, "subject": "Busy"},
        format="json",
    )
    assert response.status_code == 503, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and body["code"] == "service_unavailable"
    assert response["Retry-After"]
    page = page_client(world.a.poc).post(
        "/cases/new/",
        {"engagement": engagement.pk, "kind": "inquiry", "severity": 2, "subject": "Busy"},
    )
    assert page.status_code == 503
    assert page["Retry-After"]
