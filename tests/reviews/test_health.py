"""Engagement health (reviews/health): the scoring rule at its boundaries, each factor from real
rows, constant queries for many engagements, who sees it, and the overdue action items."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cases.casework.models import Case
from engagements.time.models import TimeEntry
from reviews.health.scoring import HealthInputs, Level, level_of, score_health
from reviews.health.selectors import (
    health_engagements,
    health_inputs,
    overdue_action_items,
)
from reviews.scheduling.models import ActionItem, Occurrence
from tests.conftest import acting_as, page_client, signed_in
from tests.factories import EngagementFactory

UTC = ZoneInfo("UTC")


def points(inputs: HealthInputs) -> dict[str, int]:
    return {factor.code: factor.points for factor in score_health(inputs).factors}


# --- The rule ------------------------------------------------------------------------------------


def test_no_figures_is_full_health():
    health = score_health(HealthInputs(cap_minutes=600))
    assert (health.score, health.level) == (100, Level.HEALTHY)
    assert health.reasons == ()
    assert [factor.code for factor in health.factors] == [
        "sla",
        "sessions",
        "severe_items",
        "action_items",
        "hours",
    ]


@pytest.mark.parametrize(
    ("due", "met", "deducted"),
    [
        (20, 20, 0),
        (20, 19, 0),  # exactly 95 %
        (1000, 949, 15),  # 94.9 %
        (5, 4, 15),  # exactly 80 %
        (1000, 799, 30),  # 79.9 %
        (3, 0, 30),
        (0, 0, 0),  # nothing fell due: nothing to hold against it
    ],
)
def test_sla_attainment_tiers(due, met, deducted):
    assert points(HealthInputs(items_due=due, items_met=met))["sla"] == deducted


@pytest.mark.parametrize(
    ("missed", "overdue", "deducted"), [(0, 0, 0), (1, 0, 10), (0, 1, 10), (1, 1, 20), (3, 2, 20)]
)
def test_sessions_cost_ten_each_up_to_twenty(missed, overdue, deducted):
    inputs = HealthInputs(sessions_missed=missed, sessions_overdue=overdue)
    assert points(inputs)["sessions"] == deducted


@pytest.mark.parametrize(
    ("sev0", "sev1", "deducted"), [(0, 0, 0), (0, 1, 5), (1, 0, 15), (1, 2, 25), (2, 0, 25)]
)
def test_severe_items(sev0, sev1, deducted):
    assert points(HealthInputs(open_sev0=sev0, open_sev1=sev1))["severe_items"] == deducted


@pytest.mark.parametrize(("count", "deducted"), [(0, 0), (1, 5), (3, 15), (4, 15)])
def test_overdue_action_items(count, deducted):
    assert points(HealthInputs(action_items_overdue=count))["action_items"] == deducted


@pytest.mark.parametrize(
    ("average", "cap", "deducted"),
    [
        (600, 600, 0),  # at the cap
        (601, 600, 5),  # a minute over (100.2 %, shown as 100 %)
        (720, 600, 5),  # exactly 120 %
        (721, 600, 10),
        (900, 0, 0),  # no cap: nothing to measure against
    ],
)
def test_hours_against_the_cap(average, cap, deducted):
    assert points(HealthInputs(average_minutes=average, cap_minutes=cap))["hours"] == deducted


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (100, Level.HEALTHY),
        (80, Level.HEALTHY),
        (79, Level.WATCH),
        (60, Level.WATCH),
        (59, Level.AT_RISK),
        (0, Level.AT_RISK),
    ],
)
def test_levels_at_their_boundaries(score, level):
    assert level_of(score) == level


def test_score_adds_the_deductions_and_names_the_costliest_first():
    # 80: 15 (SLA 90 %) + 5 (hours) -> still healthy
    assert (
        score_health(
            HealthInputs(items_due=10, items_met=9, average_minutes=700, cap_minutes=600)
        ).level
        == Level.HEALTHY
    )
    # 60: 30 (SLA) + 10 (a missed session) -> watch; 55 with 5 more -> at risk
    watch = score_health(HealthInputs(items_due=4, items_met=1, sessions_missed=1))
    assert (watch.score, watch.level) == (60, Level.WATCH)
    risk = score_health(
        HealthInputs(items_due=4, items_met=1, sessions_missed=1, action_items_overdue=1)
    )
    assert (risk.score, risk.level) == (55, Level.AT_RISK)
    assert [factor.code for factor in risk.reasons] == ["sla", "sessions", "action_items"]
    worst = score_health(
        HealthInputs(
            items_due=2,
            sessions_missed=5,
            open_sev0=3,
            action_items_overdue=9,
            average_minutes=2000,
            cap_minutes=600,
        )
    )
    assert (worst.score, worst.level) == (0, Level.AT_RISK)


def test_factors_read_in_korean():
    with translation.override("ko"):
        health = score_health(HealthInputs(items_due=2, items_met=1, open_sev0=2))
        assert health.level_label == "위험"
        assert "응답 목표" in health.factors[0].label


# --- The figures from real rows ------------------------------------------------------------------

NOW = datetime(2026, 12, 3, 16, 0, tzinfo=UTC)  # Thu; 4 Dec 01:00 in Seoul, 17:00 in Berlin


def _case(engagement, poc, *, due, responded=None, severity=2, status="new", subject="item"):
    return Case.objects.create(
        engagement=engagement,
        kind="incident",
        severity=severity,
        subject=subject,
        status=status,
        raised_by=poc,
        received_at=due - timedelta(days=1),
        reminder_due_at=due - timedelta(hours=6),
        response_due_at=due,
        first_response_at=responded,
    )


def _session(engagement, start, status, period):
    return Occurrence.objects.create(
        engagement=engagement,
        deliverable="service_review",
        period=f"monthly:{period}",
        scheduled_start=start,
        method="video",
        status=status,
    )


def _item(session, due, *, done=False, text="follow up"):
    return ActionItem.objects.create(occurrence=session, description=text, due_date=due, done=done)


def test_each_factor_is_computed_from_the_engagements_rows(world):
    engagement = world.a.objects["engagement"]  # Europe/Berlin, premium
    poc = world.a.poc
    # SLA: two objectives due in the window (one met, one missed); none outside it counts.
    _case(engagement, poc, due=NOW - timedelta(days=10), responded=NOW - timedelta(days=11))
    _case(engagement, poc, due=NOW - timedelta(days=5), responded=NOW - timedelta(days=4))
    _case(engagement, poc, due=NOW - timedelta(days=100), responded=NOW - timedelta(days=99))
    _case(engagement, poc, due=NOW + timedelta(hours=3))  # not due yet
    # Severity: open 0 and 1 count, a resolved 0 does not (all due in the future).
    later = NOW + timedelta(days=2)
    _case(engagement, poc, due=later, severity=0)
    _case(engagement, poc, due=later, severity=1, status="in_progress")
    _case(engagement, poc, due=later, severity=1, status="awaiting_customer")
    _case(engagement, poc, due=later, severity=0, status="resolved")
    # Sessions: missed in the window, scheduled and unrecorded a day after; not the rest.
    missed = _session(engagement, NOW - timedelta(days=10), "missed", "a")
    _session(engagement, NOW - timedelta(days=3), "scheduled", "b")
    _session(engagement, NOW - timedelta(hours=2), "scheduled", "c")  # within the day's grace
    _session(engagement, NOW - timedelta(days=100), "missed", "d")  # before the window
    _session(engagement, NOW - timedelta(days=7), "completed", "e")
    # Action items: open and past due in Berlin (3 Dec there), not done, due today or undated.
    _item(missed, date(2026, 12, 2))
    _item(missed, date(2026, 11, 20))
    _item(missed, date(2026, 12, 2), done=True)
    _item(missed, date(2026, 12, 3))
    _item(missed, None)
    # Hours: 12 h in each of the 4 full weeks before this one, against the premium cap.
    monday = date(2026, 11, 30)
    for weeks in range(1, 5):
        TimeEntry.objects.create(
            engagement=engagement,
            manager=world.manager,
            date=monday - timedelta(weeks=weeks),
            minutes=720,
            activity="call",
        )
    # Tenant B's rows never count for A.
    _case(world.b.objects["engagement"], world.b.poc, due=NOW - timedelta(days=2), severity=0)

    with acting_as(world.manager):
        engagements = health_engagements(world.manager, NOW)
        inputs = health_inputs(engagements, NOW)
    assert [e.pk for e in engagements] == [engagement.pk]
    cap = int(engagement.plan.weekly_hours_cap * 60)
    assert inputs[engagement.pk] == HealthInputs(
        items_due=2,
        items_met=1,
        sessions_missed=1,
        sessions_overdue=1,
        open_sev0=1,
        open_sev1=2,
        action_items_overdue=2,
        average_minutes=720,
        cap_minutes=cap,
    )
    assert cap == 600  # premium: 10 h a week
    health = score_health(inputs[engagement.pk])
    # 30 (50 %) + 20 (two sessions) + 25 (15 + 2 × 5) + 10 (two items) + 5 (exactly 120 %)
    assert health.score == 100 - 30 - 20 - 25 - 10 - 5
    assert health.level == Level.AT_RISK


def test_an_action_item_is_overdue_by_its_engagements_date(world):
    """At 16:00 UTC on 3 Dec it is already 4 Dec in Seoul and still 3 Dec in Berlin."""
    berlin = world.a.objects["engagement"]
    seoul = EngagementFactory(
        organization=world.a.organization,
        manager=world.manager,
        name="Seoul engagement",
        timezone="Asia/Seoul",
        holiday_country="KR",
    )
    for engagement in (berlin, seoul):
        session = _session(engagement, NOW - timedelta(days=5), "completed", engagement.pk)
        _item(session, date(2026, 12, 3), text=f"due 3 Dec at {engagement.name}")
    with acting_as(world.manager):
        inputs = health_inputs(health_engagements(world.manager, NOW), NOW)
        listed = [item.description for item in overdue_action_items(world.manager, NOW)]
    assert inputs[seoul.pk].action_items_overdue == 1
    assert inputs[berlin.pk].action_items_overdue == 0
    assert listed == ["due 3 Dec at Seoul engagement"]


def test_many_engagements_cost_no_more_queries_than_a_few(world):
    def add(count: int) -> None:
        for step in range(count):
            engagement = EngagementFactory(
                organization=world.a.organization,
                manager=world.manager,
                timezone=("Asia/Seoul", "America/New_York", "Europe/Berlin")[step % 3],
            )
            _case(engagement, world.a.poc, due=NOW - timedelta(days=1), severity=step % 2)
            session = _session(engagement, NOW - timedelta(days=4), "missed", step)
            _item(session, date(2026, 11, 1))
            TimeEntry.objects.create(
                engagement=engagement,
                manager=world.manager,
                date=date(2026, 11, 24),
                minutes=60,
                activity="call",
            )

    def count() -> tuple[int, int]:
        with acting_as(world.manager), CaptureQueriesContext(connection) as queries:
            engagements = health_engagements(world.manager, NOW)
            health_inputs(engagements, NOW)
        return len(engagements), len(queries)

    add(2)  # with A's own: 3
    few_engagements, few = count()
    add(27)
    many_engagements, many = count()
    assert (few_engagements, many_engagements) == (3, 30)
    assert few == many


# --- Who sees it ---------------------------------------------------------------------------------


def test_a_manager_sees_the_health_of_the_engagements_they_serve_only(world):
    mine, theirs = world.a.objects["engagement"], world.b.objects["engagement"]
    with acting_as(world.manager):
        assert [e.pk for e in health_engagements(world.manager)] == [mine.pk]
    with acting_as(world.admin):
        assert {e.pk for e in health_engagements(world.admin)} >= {mine.pk, theirs.pk}
    client = signed_in(world.manager)
    assert client.get(reverse("engagement_health", args=[theirs.pk])).status_code == 404
    answer = client.get(reverse("engagement-health-detail", args=[theirs.pk]))
    assert answer.status_code == 404
    listed = client.get(reverse("engagement-health-list")).json()
    assert [row["engagement"] for row in listed] == [mine.pk]


@pytest.mark.parametrize("role", ["poc", "member"])
def test_customers_do_not_see_health(world, role):
    """Health is the provider's internal view: 403 for the customer's own engagement."""
    client = signed_in(world.user(role))
    mine = world.a.objects["engagement"].pk
    assert client.get(reverse("engagement_health", args=[mine])).status_code == 403
    answer = client.get(reverse("engagement-health-detail", args=[mine]))
    assert answer.status_code == 403
    assert answer.json()["code"] == "permission_denied"
    assert client.get(reverse("engagement-health-list")).status_code == 403
    assert client.get(reverse("overdue_action_items")).status_code == 403
    assert client.get(reverse("overdue-action-item-list")).status_code == 403


def test_the_api_explains_each_factor(world):
    engagement = world.a.objects["engagement"]
    _case(engagement, world.a.poc, due=timezone.now() + timedelta(days=1), severity=0)
    body = signed_in(world.manager).get(reverse("engagement-health-detail", args=[engagement.pk]))
    assert body.status_code == 200
    data = body.json()
    assert (data["engagement"], data["score"], data["level"]) == (engagement.pk, 85, "healthy")
    severe = next(factor for factor in data["factors"] if factor["code"] == "severe_items")
    assert severe["points"] == 15 and severe["max_points"] == 25
    assert "1 severity 0" in severe["figure"] and "15" in severe["threshold"]
    assert data["inputs"]["open_sev0"] == 1


def test_the_schema_documents_health(world):
    schema = signed_in(world.manager).get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/engagements/{id}/health/" in schema["paths"] or (
        "/api/v1/engagements/{pk}/health/" in schema["paths"]
    )
    assert "/api/v1/overdue-action-items/" in schema["paths"]


# --- Pages ---------------------------------------------------------------------------------------


def test_the_board_and_the_admin_overview_show_health_with_reasons(world):
    engagement = world.a.objects["engagement"]
    for _ in range(2):
        _case(engagement, world.a.poc, due=timezone.now() + timedelta(days=1), severity=0)
    session = _session(engagement, timezone.now() - timedelta(days=3), "missed", "x")
    _item(session, timezone.localdate() - timedelta(days=5))
    board = page_client(world.manager).get(reverse("weekly_board")).content.decode()
    # 25 (two severity 0) + 10 (a missed session) + 5 (an item) = 60: watch
    assert "Watch · 60 of 100" in board
    assert "−25 · Open severity 0 and 1 items: 2 severity 0, 0 severity 1" in board
    assert reverse("engagement_health", args=[engagement.pk]) in board
    assert reverse("overdue_action_items") in board
    overview = page_client(world.admin).get(reverse("dashboard")).content.decode()
    assert 'id="engagement-health"' in overview and "Watch · 60 of 100" in overview
    detail = page_client(world.manager).get(reverse("engagement_detail", args=[engagement.pk]))
    assert reverse("engagement_health", args=[engagement.pk]) in detail.content.decode()
    customer = page_client(world.a.poc).get(reverse("engagement_detail", args=[engagement.pk]))
    assert reverse("engagement_health", args=[engagement.pk]) not in customer.content.decode()
    page = page_client(world.manager).get(reverse("engagement_health", args=[engagement.pk]))
    text = page.content.decode()
    assert "Missed or overdue sessions" in text and "1 missed, 0 not recorded" in text


def test_the_overdue_list_sorts_by_due_date_both_ways(world):
    engagement = world.a.objects["engagement"]
    session = _session(engagement, timezone.now() - timedelta(days=30), "completed", "s")
    today = engagement.local_today()
    _item(session, today - timedelta(days=9), text="Oldest follow-up")
    _item(session, today - timedelta(days=1), text="Newest follow-up")
    _item(session, today + timedelta(days=1), text="Not yet due")
    _item(world_b_session(world), world.b.objects["engagement"].local_today() - timedelta(days=2))
    client = page_client(world.manager)
    ascending = client.get(reverse("overdue_action_items")).content.decode()
    assert ascending.index("Oldest follow-up") < ascending.index("Newest follow-up")
    assert "Not yet due" not in ascending and "9 days overdue" in ascending
    descending = client.get(reverse("overdue_action_items"), {"sort": "-due_date"}).content.decode()
    assert descending.index("Newest follow-up") < descending.index("Oldest follow-up")

    api = signed_in(world.manager)
    listed = api.get(reverse("overdue-action-item-list"), {"ordering": "-due_date"}).json()
    assert [row["description"] for row in listed["results"]] == [
        "Newest follow-up",
        "Oldest follow-up",
    ]
    assert listed["results"][0]["engagement"] == engagement.pk
    wrong = api.get(reverse("overdue-action-item-list"), {"ordering": "owner"})
    assert wrong.status_code == 400 and wrong.json()["code"] == "validation_error"
    everything = signed_in(world.admin).get(reverse("overdue-action-item-list")).json()
    assert len(everything["results"]) == 3  # the admin sees tenant B's too


def world_b_session(world):
    return _session(
        world.b.objects["engagement"], timezone.now() - timedelta(days=20), "missed", "b"
    )


def test_remembered_scores_follow_the_language_and_the_figures():
    """score_health is remembered per language and inputs (issue 17): a score read in English
    first still reads in Korean, and other figures score anew."""
    inputs = HealthInputs(items_due=20, items_met=10, sessions_missed=1)
    with translation.override("en"):
        english = score_health(inputs)
    with translation.override("ko"):
        korean = score_health(inputs)
    assert english.score == korean.score == 100 - 30 - 10
    assert english.factors[0].label.startswith("Response objectives met")
    assert korean.factors[0].label != english.factors[0].label
    with translation.override("en"):
        assert score_health(inputs) is english
        better = score_health(HealthInputs(items_due=20, items_met=20))
    assert better.score == 100 and better.level == Level.HEALTHY


def test_the_managers_figures_name_their_engagements_once(world):
    """One list of ids in the outer query, not the scope's next to the board's: PostgreSQL
    read every engagement of every tenant to intersect two lists on the same column."""
    engagement = world.a.objects["engagement"]
    _case(engagement, world.a.poc, due=NOW - timedelta(days=2), severity=0)
    with acting_as(world.manager), CaptureQueriesContext(connection) as queries:
        inputs = health_inputs(health_engagements(world.manager, NOW), NOW)
    assert inputs[engagement.pk].items_due == 1
    (figures,) = [q["sql"] for q in queries.captured_queries if "items_due" in q["sql"]]
    outer = figures.rsplit(" FROM ", 1)[1]
    assert outer.count('"engagements_engagement"."id" IN (') == 1, outer
    # Another tenant's engagement is not covered: its figures are not read.
    theirs = world.b.objects["engagement"]
    _case(theirs, world.b.poc, due=NOW - timedelta(days=2), severity=0)
    with acting_as(world.manager), pytest.raises(KeyError):
        health_inputs([engagement, theirs], NOW)
