"""Risk mitigation (TSAM and Premium): the register's rules and score, who may change it,
the high-risk selector, review reminders exactly once, the pages and the API, query budgets."""

import sys
import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.risks import services
from cases.risks.models import Risk, RiskReviewReminder
from cases.risks.selectors import high_risks
from cases.risks.tasks import remind_risk_reviews
from portal.audit import AuditEntry
from portal.errors import InvalidInput, NotAllowed, NotEntitled
from portal.notifications import Notification
from portal.tenancy.scoping import system_scope
from tests.conftest import page_client, services_act_in_their_scope, signed_in
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


RISKS = "/api/v1/risks/"


def add_risk(world, *, title="Database at capacity", likelihood=3, impact=4, **extra):
    return services.risk_create(
        acting_user=world.manager,
        engagement=world.a.objects["engagement"],
        title=title,
        likelihood=likelihood,
        impact=impact,
        **extra,
    )


# --- Services ---------------------------------------------------------------------------------


def test_manager_records_a_risk_with_its_score_and_an_audit_entry(world):
    risk = add_risk(world, likelihood=4, impact=5)
    assert risk.score == 20
    assert risk.owner == world.manager  # the engagement's manager by default
    assert risk.created_by == world.manager
    assert AuditEntry.objects.filter(action="risk.create", object_id=str(risk.pk)).exists()

    risk = services.risk_update(acting_user=world.admin, risk=risk, likelihood=2)
    assert (risk.likelihood, risk.impact, risk.score) == (2, 5, 10)
    risk.refresh_from_db()
    assert risk.score == 10
    entry = AuditEntry.objects.get(action="risk.update", object_id=str(risk.pk))
    assert entry.before["likelihood"] == 4 and entry.after["likelihood"] == 2


def test_ratings_status_and_owner_are_checked(world):
    with pytest.raises(InvalidInput) as error:
        add_risk(world, likelihood=0, impact=6, title=" ")
    assert set(error.value.fields) == {"likelihood", "impact", "title"}
    with pytest.raises(InvalidInput) as error:
        add_risk(world, owner=world.a.poc)
    assert "owner" in error.value.fields
    risk = add_risk(world)
    with pytest.raises(InvalidInput):
        services.risk_update(acting_user=world.manager, risk=risk, status="forgotten")
    with pytest.raises(InvalidInput):
        services.risk_update(acting_user=world.manager, risk=risk, score=1)


def test_only_staff_serving_the_engagement_change_risks(world):
    engagement = world.a.objects["engagement"]
    for outsider in (world.a.poc, world.a.member, world.other_manager, ManagerFactory()):
        with pytest.raises(NotAllowed):
            services.risk_create(
                acting_user=outsider, engagement=engagement, title="x", likelihood=1, impact=1
            )
    risk = add_risk(world)
    with pytest.raises(NotAllowed):
        services.risk_update(acting_user=world.a.poc, risk=risk, impact=1)
    deputy_risk = services.risk_create(
        acting_user=engagement.deputy, engagement=engagement, title="d", likelihood=1, impact=1
    )
    assert deputy_risk.pk


def test_standard_plan_is_not_entitled(world):
    engagement = world.b.objects["engagement"]
    with pytest.raises(NotEntitled) as error:
        services.risk_create(
            acting_user=world.other_manager,
            engagement=engagement,
            title="x",
            likelihood=1,
            impact=1,
        )
    assert "Risk mitigation" in error.value.detail or "risk_mitigation" in str(error.value.fields)


def test_high_risks_are_those_above_the_threshold(world, settings):
    settings.RISK_REPORT_THRESHOLD = 12
    engagement = world.a.objects["engagement"]
    add_risk(world, title="twelve", likelihood=3, impact=4)
    fifteen = add_risk(world, title="fifteen", likelihood=3, impact=5)
    top = add_risk(world, title="twenty-five", likelihood=5, impact=5)
    closed = add_risk(world, title="closed", likelihood=5, impact=4)
    services.risk_update(acting_user=world.manager, risk=closed, status=Risk.Status.CLOSED)
    # B's standard engagement: a row that exists anyway (made directly) is never reported.
    Risk.objects.create(
        engagement=world.b.objects["engagement"],
        title="not entitled",
        likelihood=5,
        impact=5,
        score=25,
        created_by=world.other_manager,
    )
    ids = [engagement.pk, world.b.objects["engagement"].pk]
    assert list(high_risks(ids)) == [top, fifteen]
    assert list(high_risks([engagement.pk], threshold=20)) == [top]


# --- Review reminders -------------------------------------------------------------------------


def test_review_reminder_goes_out_exactly_once_per_review_date(world):
    today = timezone.now().date()
    due = add_risk(world, title="due", next_review_date=today - timedelta(days=2))
    add_risk(world, title="later", next_review_date=today + timedelta(days=5))
    add_risk(world, title="accepted", next_review_date=today - timedelta(days=2), status="accepted")

    assert remind_risk_reviews.delay().get() == {"sent": 1, "skipped": 0}
    assert remind_risk_reviews.delay().get() == {"sent": 0, "skipped": 0}
    assert RiskReviewReminder.objects.filter(risk=due).count() == 1
    notes = Notification.objects.filter(kind="risk.review_due")
    assert [n.user for n in notes] == [world.manager]
    assert "due" in notes[0].title

    # A new review date is a new reminder, once again.
    services.risk_update(
        acting_user=world.manager, risk=due, next_review_date=today - timedelta(days=1)
    )
    assert remind_risk_reviews.delay().get()["sent"] == 1
    assert remind_risk_reviews.delay().get()["sent"] == 0
    assert Notification.objects.filter(kind="risk.review_due").count() == 2


def test_an_already_claimed_review_is_not_sent_again(world):
    """A scan that found the risk due but lost the claim to another one sends nothing."""
    risk = add_risk(world, next_review_date=timezone.now().date() - timedelta(days=1))
    RiskReviewReminder.objects.create(risk=risk, review_date=risk.next_review_date)
    assert services._remind_one(risk.pk, timezone.now()) is False
    assert not Notification.objects.filter(kind="risk.review_due").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_remind_once(require_postgres, world):
    with system_scope("arrange"):
        for n in range(5):
            add_risk(world, title=f"r{n}", next_review_date=date(2020, 1, 1) + timedelta(days=n))
    barrier = threading.Barrier(2)
    results = []

    def scan():
        try:
            barrier.wait()
            results.append(remind_risk_reviews())
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(result["sent"] for result in results) == 5
    with system_scope("assert"):
        assert RiskReviewReminder.objects.count() == 5
        assert Notification.objects.filter(kind="risk.review_due").count() == 5


# --- API --------------------------------------------------------------------------------------


def test_api_create_update_and_list(world):
    engagement = world.a.objects["engagement"]
    client = signed_in(world.manager)
    response = client.post(
        RISKS,
        {
            "engagement": engagement.pk,
            "title": "Certificate expiry",
            "likelihood": 2,
            "impact": 5,
            "next_review_date": "2030-01-31",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["score"] == 10 and body["owner"] == world.manager.pk
    response = client.patch(f"{RISKS}{body['id']}/", {"impact": 1}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["score"] == 2
    # Score is computed, not written: sending it is refused, naming the field.
    response = client.patch(f"{RISKS}{body['id']}/", {"score": 25}, format="json")
    assert response.status_code == 400 and list(response.json()["fields"]) == ["score"]
    assert client.get(f"{RISKS}{body['id']}/").json()["score"] == 2

    listed = signed_in(world.a.member).get(RISKS, {"engagement": engagement.pk})
    assert [row["title"] for row in listed.json()["results"]] == ["Certificate expiry"]
    response = signed_in(world.a.poc).post(
        RISKS, {"engagement": engagement.pk, "title": "x", "likelihood": 1, "impact": 1}
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"


def test_api_refuses_standard_engagements(world):
    engagement = world.b.objects["engagement"]
    client = signed_in(world.other_manager)
    response = client.post(
        RISKS,
        {"engagement": engagement.pk, "title": "x", "likelihood": 1, "impact": 1},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"
    assert response.json()["fields"] == {"function": ["risk_mitigation"]}
    response = client.get(RISKS, {"engagement": engagement.pk})
    assert response.status_code == 403 and response.json()["code"] == "not_entitled"


def test_api_refuses_another_tenants_engagement_as_missing(world):
    client = signed_in(world.manager)
    foreign = client.post(
        RISKS,
        {
            "engagement": world.b.objects["engagement"].pk,
            "title": "x",
            "likelihood": 1,
            "impact": 1,
        },
        format="json",
    )
    missing = client.post(
        RISKS, {"engagement": 987654, "title": "x", "likelihood": 1, "impact": 1}, format="json"
    )
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json()["fields"]["engagement"] == [
        m.replace("987654", str(world.b.objects["engagement"].pk))
        for m in missing.json()["fields"]["engagement"]
    ]


# --- Pages ------------------------------------------------------------------------------------


def test_pages_for_staff_and_customers(world):
    engagement = world.a.objects["engagement"]
    url = f"/engagements/{engagement.pk}/risks/"
    manager = page_client(world.manager)
    response = manager.post(
        f"{url}new/",
        {
            "title": "Single point of failure",
            "likelihood": "4",
            "impact": "4",
            "status": "open",
            "owner": str(world.manager.pk),
            "next_review_date": "2030-02-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    risk = Risk.objects.get(title="Single point of failure")
    assert risk.score == 16
    response = manager.post(
        f"{url}{risk.pk}/",
        {"title": risk.title, "likelihood": "2", "impact": "4", "status": "mitigating"},
    )
    assert response.status_code == 302
    risk.refresh_from_db()
    assert (risk.score, risk.status) == (8, "mitigating")

    member = page_client(world.a.member)
    page = member.get(url)
    assert page.status_code == 200 and "Single point of failure" in page.content.decode()
    assert f"{url}new/" not in page.content.decode()
    assert member.get(f"{url}new/").status_code == 403
    assert member.get(f"{url}{risk.pk}/").status_code == 403
    detail = member.get(f"/engagements/{engagement.pk}/").content.decode()
    assert url in detail


def test_pages_hide_and_refuse_on_a_standard_plan(world):
    engagement = world.b.objects["engagement"]
    client = page_client(world.b.poc)
    detail = client.get(f"/engagements/{engagement.pk}/")
    assert detail.status_code == 200
    assert f"/engagements/{engagement.pk}/risks/" not in detail.content.decode()
    response = client.get(f"/engagements/{engagement.pk}/risks/")
    assert response.status_code == 403
    assert "Risk mitigation" in response.content.decode()
    staff = page_client(world.other_manager)
    assert staff.get(f"/engagements/{engagement.pk}/risks/new/").status_code == 403


# --- Query budgets ----------------------------------------------------------------------------


def _add(world, count: int) -> None:
    start = Risk.objects.count()
    for n in range(start, start + count):
        add_risk(world, title=f"risk {n}", likelihood=1 + n % 5, impact=2)


@pytest.mark.parametrize("surface", ["page", "api"])
def test_list_queries_do_not_grow_with_rows(world, surface):
    engagement = world.a.objects["engagement"]
    if surface == "page":
        client, url, params = page_client(world.a.poc), f"/engagements/{engagement.pk}/risks/", {}
    else:
        client, url, params = signed_in(world.a.poc), RISKS, {"engagement": engagement.pk}
    _add(world, 3)
    client.get(url, params)  # warm up session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, params).status_code == 200
    _add(world, 27)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert response.status_code == 200
    assert "risk 29" in response.content.decode()
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


def test_staff_list_page_queries_do_not_grow_with_rows(world):
    engagement = world.a.objects["engagement"]
    client, url = page_client(world.manager), f"/engagements/{engagement.pk}/risks/"
    _add(world, 3)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _add(world, 27)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
