"""Absence cover on existing items (SPEC §4: while a manager is absent, the deputy receives what
the manager would): replies, assignments and reminders reach whoever covers, the item shows who
covers (page and API), and the person back from an absence gets one summary of what happened."""

import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases import absences as cases_absences
from cases import sla
from cases.casework import services
from cases.casework.models import SlaReminder
from cases.fixes.services import fix_request_create
from cases.risks.services import risk_create
from cases.risks.tasks import remind_risk_reviews
from engagements.absences.models import Absence
from engagements.absences.services import absence_record
from portal.notifications import Notification, OutboxEmail
from portal.tenancy.scoping import system_scope
from tests.cases.conftest import engagement_with_contact
from tests.conftest import page_client, services_act_in_their_scope, signed_in
from tests.factories import AdminFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def away(person, *, starts_at=None, ends_at=None):
    """`person` records an absence running now (by default: from an hour ago for three days)."""
    now = timezone.now()
    return absence_record(
        acting_user=person,
        manager=person,
        kind="vacation",
        starts_at=starts_at or now - timedelta(hours=1),
        ends_at=ends_at or now + timedelta(days=3),
    )


def raise_item(engagement, contact, subject="Printer on fire"):
    return services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject=subject
    )


def notified(kind, case=None):
    rows = Notification.objects.filter(kind=kind)
    if case is not None:
        rows = rows.filter(url=f"/cases/{case.pk}/")
    return set(rows.values_list("user_id", flat=True))


# --- Notifications reach whoever covers ------------------------------------------------------


def test_a_customer_reply_reaches_the_deputy_while_the_holder_is_away(premium):
    engagement, contact = premium
    case = raise_item(engagement, contact)  # before the absence: held by the manager
    assert case.assignee == engagement.manager
    services.case_comment(acting_user=contact, case=case, body="Still broken")
    assert notified("case.comment", case) == {engagement.manager.pk}

    away(engagement.manager)
    services.case_comment(acting_user=contact, case=case, body="Any news?")
    assert notified("case.comment", case) == {engagement.manager.pk, engagement.deputy.pk}
    assert OutboxEmail.objects.filter(
        to=engagement.deputy.email, notification__kind="case.comment"
    ).exists()


def test_an_absent_deputy_holding_an_item_is_covered_by_the_manager(premium):
    engagement, contact = premium
    case = raise_item(engagement, contact)
    services.case_assign(acting_user=engagement.manager, case=case, assignee=engagement.deputy)
    away(engagement.deputy)
    services.case_comment(acting_user=contact, case=case, body="Hello?")
    assert notified("case.comment", case) == {engagement.deputy.pk, engagement.manager.pk}


def test_nobody_covers_when_both_are_away(premium):
    engagement, contact = premium
    case = raise_item(engagement, contact)
    away(engagement.manager)
    away(engagement.deputy)
    services.case_comment(acting_user=contact, case=case, body="Hello?")
    assert notified("case.comment", case) == {engagement.manager.pk}


def test_assigning_to_an_absent_manager_tells_the_deputy(premium):
    engagement, contact = premium
    admin = AdminFactory()
    case = raise_item(engagement, contact)
    services.case_assign(acting_user=admin, case=case, assignee=None)
    away(engagement.manager)
    services.case_assign(acting_user=admin, case=case, assignee=engagement.manager)
    assigned = Notification.objects.filter(kind="case.assigned")
    assert {row.user_id for row in assigned} == {engagement.manager.pk, engagement.deputy.pk}
    cover_title = assigned.get(user=engagement.deputy).title
    assert str(engagement.manager) in cover_title and "away" in cover_title
    assert "assigned to you" in assigned.get(user=engagement.manager).title

    # The deputy assigning it to the absent manager is not told about their own act.
    Notification.objects.all().delete()
    services.case_assign(acting_user=engagement.deputy, case=case, assignee=None)
    services.case_assign(acting_user=engagement.deputy, case=case, assignee=engagement.manager)
    assert notified("case.assigned") == {engagement.manager.pk}


def test_an_escalation_reaches_the_deputy_while_the_manager_is_away(premium):
    engagement, contact = premium
    case = raise_item(engagement, contact)
    away(engagement.manager)
    services.case_escalate(acting_user=contact, case=case, reason="Urgent")
    assert {engagement.manager.pk, engagement.deputy.pk} <= notified("case.escalated", case)


def test_the_sla_reminder_of_an_item_raised_before_the_absence_reaches_the_cover():
    engagement, _contact = engagement_with_contact("premium", "UTC")
    monday = datetime(2026, 6, 15, 9, tzinfo=UTC)
    case = services.case_raise(
        acting_user=engagement.manager,
        engagement=engagement,
        kind="inquiry",
        severity=2,
        subject="Q",
        received_at=monday,
    )
    services.case_assign(acting_user=engagement.manager, case=case, assignee=engagement.deputy)
    # The deputy holds it and is away when the 75 % reminder falls due (Monday 15:00).
    away(
        engagement.deputy, starts_at=monday + timedelta(hours=2), ends_at=monday + timedelta(days=2)
    )
    sla.scan(monday + timedelta(hours=7))
    reminder = SlaReminder.objects.get(case=case, threshold="at_risk")
    assert set(reminder.recipients) == {engagement.manager.pk, engagement.deputy.pk}


def test_a_new_fix_request_reaches_the_deputy_while_the_manager_is_away(world):
    engagement = world.a.objects["engagement"]
    away(world.manager)
    fix_request_create(acting_user=world.a.poc, engagement=engagement, title="Slow export")
    assert notified("fix_request.created") == {world.manager.pk, engagement.deputy_id}


def test_a_risk_review_reminder_reaches_the_deputy_while_the_manager_is_away(world):
    engagement = world.a.objects["engagement"]
    risk_create(
        acting_user=world.manager,
        engagement=engagement,
        title="Database at capacity",
        likelihood=3,
        impact=4,
        next_review_date=timezone.now().date() - timedelta(days=1),
    )
    away(world.manager)
    assert remind_risk_reviews.delay().get()["sent"] == 1
    assert notified("risk.review_due") == {world.manager.pk, engagement.deputy_id}


# --- Who covers, on the page and in the API --------------------------------------------------


def test_the_api_says_who_covers_while_the_assignee_is_away(world):
    engagement = world.a.objects["engagement"]
    case = raise_item(engagement, world.a.poc)
    client = signed_in(world.a.poc)
    assert client.get(f"/api/v1/cases/{case.pk}/").json()["covering"] is None

    absence = away(world.manager)
    for viewer in (world.a.poc, world.manager, world.admin):
        body = signed_in(viewer).get(f"/api/v1/cases/{case.pk}/").json()
        covering = body["covering"]
        assert (covering["user"], covering["absent"]) == (engagement.deputy_id, world.manager.pk)
        assert datetime.fromisoformat(covering["until"]) == absence.ends_at
    listed = {row["id"]: row for row in client.get("/api/v1/cases/").json()["results"]}
    assert listed[case.pk]["covering"]["user"] == engagement.deputy_id

    # Read-only: sending it is refused like any read-only field.
    response = client.post(
        "/api/v1/cases/",
        {
            "engagement": engagement.pk,
            "kind": "inquiry",
            "severity": 2,
            "subject": "x",
            "covering": None,
        },
        format="json",
    )
    assert response.status_code == 400 and "covering" in response.json()["fields"]


def test_the_case_page_says_who_covers_until_when(world):
    engagement = world.a.objects["engagement"]
    case = raise_item(engagement, world.a.poc)
    url = reverse("case_detail", args=[case.pk])
    assert "Covered by" not in page_client(world.a.poc).get(url).content.decode()
    away(world.manager)
    for viewer in (world.a.poc, world.manager):
        body = page_client(viewer).get(url).content.decode()
        assert f"Covered by {engagement.deputy} while {world.manager} is away until" in body


def test_the_case_page_says_who_covers_in_korean(world):
    engagement = world.a.objects["engagement"]
    case = raise_item(engagement, world.a.poc)
    away(world.manager)
    world.a.poc.language = "ko"
    world.a.poc.save(update_fields=["language"])
    body = page_client(world.a.poc).get(reverse("case_detail", args=[case.pk])).content.decode()
    assert "부재 중" in body and str(engagement.deputy) in body


# --- The summary when the absence ends -------------------------------------------------------


def test_the_manager_back_from_an_absence_gets_one_summary_of_what_happened(premium):
    engagement, contact = premium
    raise_item(engagement, contact, subject="Quiet one")  # no activity while away
    busy = raise_item(engagement, contact, subject="Busy one")
    services.case_comment(acting_user=engagement.manager, case=busy, body="Before I go")
    absence = away(
        engagement.manager,
        starts_at=timezone.now(),  # after the items above were raised
        ends_at=timezone.now() + timedelta(hours=1),
    )
    services.case_comment(acting_user=contact, case=busy, body="Any news?")
    services.case_respond(acting_user=engagement.deputy, case=busy, body="Covering: on it")
    fresh = raise_item(engagement, contact, subject="Raised while away")

    # Not while the absence lasts.
    assert cases_absences.send_absence_summaries(timezone.now()) == 0
    back = absence.ends_at + timedelta(minutes=1)
    assert cases_absences.send_absence_summaries(back) == 1
    assert cases_absences.send_absence_summaries(back) == 0  # exactly once
    assert cases_absences.send_absence_summaries(back + timedelta(days=1)) == 0

    summary = Notification.objects.get(kind="absence.summary")
    assert summary.user == engagement.manager
    assert "2 items" in summary.title
    assert (
        f"#{busy.pk} Busy one" in summary.body and f"#{fresh.pk} Raised while away" in summary.body
    )
    assert "Quiet one" not in summary.body
    assert OutboxEmail.objects.filter(notification=summary, to=engagement.manager.email).exists()
    absence.refresh_from_db()
    assert absence.summarized_at == back
    # The deputy, who was not away, gets no summary.
    assert not Notification.objects.filter(kind="absence.summary", user=engagement.deputy)


def test_no_summary_when_nothing_happened_or_the_absence_was_recorded_afterwards(premium):
    engagement, _contact = premium
    now = timezone.now()
    afterwards = away(
        engagement.manager, starts_at=now - timedelta(days=5), ends_at=now - timedelta(days=1)
    )
    assert afterwards.summarized_at is not None  # nobody covered: nothing to report
    quiet = away(engagement.manager, starts_at=now, ends_at=now + timedelta(hours=1))
    assert cases_absences.send_absence_summaries(now + timedelta(hours=2)) == 0
    quiet.refresh_from_db()
    assert quiet.summarized_at is not None
    assert not Notification.objects.filter(kind="absence.summary").exists()


def test_the_summary_is_in_the_managers_language(premium):
    engagement, contact = premium
    engagement.manager.language = "ko"
    engagement.manager.save(update_fields=["language"])
    case = raise_item(engagement, contact)
    absence = away(engagement.manager, ends_at=timezone.now() + timedelta(hours=1))
    services.case_comment(acting_user=contact, case=case, body="Any news?")
    cases_absences.send_absence_summaries(absence.ends_at)
    summary = Notification.objects.get(kind="absence.summary")
    assert "부재" in summary.title and f"#{case.pk}" in summary.body


def test_the_scan_task_sends_the_summary_once(premium):
    from cases.tasks import scan_sla

    engagement, contact = premium
    case = raise_item(engagement, contact)
    absence = away(engagement.manager)
    services.case_comment(acting_user=contact, case=case, body="Any news?")
    Absence.objects.filter(pk=absence.pk).update(ends_at=timezone.now())
    assert scan_sla.apply().get()["absence_summaries"] == 1
    assert scan_sla.apply().get()["absence_summaries"] == 0
    assert Notification.objects.filter(kind="absence.summary").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_one_summary(require_postgres, monkeypatch):
    engagement, contact = engagement_with_contact("premium", "UTC")
    case = raise_item(engagement, contact)
    absence = away(engagement.manager, ends_at=timezone.now() + timedelta(hours=1))
    services.case_comment(acting_user=contact, case=case, body="Any news?")
    original = cases_absences.activity_during
    barrier = threading.Barrier(2)

    def slow_activity(absence):
        rows = original(absence)
        threading.Event().wait(0.3)  # hold the claim open so the runs overlap
        return rows

    monkeypatch.setattr(cases_absences, "activity_during", slow_activity)
    results = []

    def run():
        try:
            with system_scope("concurrent summaries test"):
                barrier.wait()
                results.append(cases_absences.send_absence_summaries(absence.ends_at))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(kind="absence.summary").count() == 1
