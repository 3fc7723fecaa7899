"""The customer's home (the dashboard of a PoC or member): their organization's open items with
their SLA state and response countdown, what waits on their reply, recent resolutions, and
"Raise an item" first for named contacts only. Constant queries as items grow."""

import itertools
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.casework import services as casework_services
from cases.casework.models import Case
from tests.conftest import page_client as signed_in

pytestmark = pytest.mark.django_db
_serial = itertools.count(1)


def raise_case(tenant, subject, **state):
    """An item of `tenant`'s engagement raised by its PoC, then put in `state` (fields)."""
    case = casework_services.case_raise(
        acting_user=tenant.poc,
        engagement=tenant.objects["engagement"],
        kind="inquiry",
        severity=2,
        subject=subject,
        description="Details.",
    )
    if state:
        Case.objects.filter(pk=case.pk).update(**state)
        case.refresh_from_db()
    return case


def at_risk(now):
    return {
        "reminder_due_at": now - timedelta(hours=1),
        "response_due_at": now + timedelta(hours=2),
    }


def breached(now):
    return {
        "reminder_due_at": now - timedelta(hours=5),
        "response_due_at": now - timedelta(hours=3),
    }


def section(body, element_id):
    """The HTML of the <section id=...> of the page."""
    match = re.search(rf'<section[^>]*id="{element_id}".*?</section>', body, re.S)
    assert match, element_id
    return match.group(0)


def dashboard(user, **headers):
    response = signed_in(user).get(reverse("dashboard"), **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_the_poc_sees_open_items_with_their_sla_state_and_countdown(world):
    now = timezone.now()
    fresh = raise_case(world.a, "Fresh question")
    risky = raise_case(world.a, "Risky upgrade", **at_risk(now))
    late = raise_case(world.a, "Late answer", **breached(now))
    answered = raise_case(
        world.a, "Answered one", status=Case.Status.IN_PROGRESS, first_response_at=now
    )
    raise_case(world.b, "Other tenant's outage", **breached(now))
    body = dashboard(world.a.poc)
    items = section(body, "home-open")
    rows = {
        case.pk: re.search(rf'<tr id="home-case-{case.pk}">.*?</tr>', items, re.S)
        for case in (fresh, risky, late, answered)
    }
    assert all(rows.values())
    assert "sla-on_track" in rows[fresh.pk].group(0) and "response due in" in rows[fresh.pk].group(
        0
    )
    assert "sla-at_risk" in rows[risky.pk].group(0) and "response due in 1\xa0hour" in rows[
        risky.pk
    ].group(0)
    assert "sla-breached" in rows[late.pk].group(0)
    assert "response overdue by 3\xa0hours" in rows[late.pk].group(0)
    assert "sla-responded_on_time" in rows[answered.pk].group(0)
    assert "response due" not in rows[answered.pk].group(0)
    # unanswered first, most urgent first
    assert items.index("Late answer") < items.index("Risky upgrade") < items.index("Fresh question")
    assert items.index("Fresh question") < items.index("Answered one")
    assert re.search(r'id="home-open-count">4<', body)
    assert re.search(r'id="home-at-risk-count">1<', body)
    assert re.search(r'id="home-breached-count">1<', body)
    assert "Other tenant" not in body


def test_items_waiting_on_the_customer_are_listed_apart(world):
    now = timezone.now()
    waiting = raise_case(
        world.a, "Please send the logs", status=Case.Status.AWAITING_CUSTOMER, first_response_at=now
    )
    raise_case(world.b, "B waits too", status=Case.Status.AWAITING_CUSTOMER, first_response_at=now)
    body = dashboard(world.a.poc)
    assert f'id="waiting-{waiting.pk}"' in section(body, "home-waiting")
    assert "Please send the logs" not in section(body, "home-open")
    assert re.search(r'id="home-waiting-count">1<', body)
    assert "B waits too" not in body


def test_nothing_waiting_says_so(world):
    body = dashboard(world.a.poc)
    assert "Nothing waits on your reply." in section(body, "home-waiting")
    assert "No open items." in section(body, "home-open")
    assert "Nothing resolved in the last two weeks." in section(body, "home-resolved")


def test_recent_resolutions_cover_the_last_two_weeks(world):
    now = timezone.now()
    raise_case(
        world.a, "Fixed lately", status=Case.Status.RESOLVED, resolved_at=now - timedelta(days=3)
    )
    raise_case(
        world.a, "Closed lately", status=Case.Status.CLOSED, closed_at=now - timedelta(days=1)
    )
    raise_case(
        world.a, "Fixed long ago", status=Case.Status.RESOLVED, resolved_at=now - timedelta(days=20)
    )
    raise_case(world.b, "B fixed", status=Case.Status.RESOLVED, resolved_at=now - timedelta(days=1))
    resolved = section(dashboard(world.a.poc), "home-resolved")
    assert resolved.index("Closed lately") < resolved.index("Fixed lately")
    assert "Fixed long ago" not in resolved and "B fixed" not in resolved


def test_raise_an_item_is_the_poc_first_action_and_members_read_only(world):
    now = timezone.now()
    raise_case(world.a, "Shared view", **breached(now))
    poc_body = dashboard(world.a.poc)
    raise_button = f'<a role="button" href="{reverse("case_create")}" id="raise-item">'
    assert raise_button in poc_body
    assert poc_body.index(raise_button) < poc_body.index("Request after-hours support")
    member_body = dashboard(world.a.member)
    assert 'id="raise-item"' not in member_body and "Raise an item" not in member_body
    assert "Shared view" in section(member_body, "home-open") and "sla-breached" in member_body
    assert "named contacts answer these" in section(member_body, "home-waiting")


def test_a_poc_of_an_ended_engagement_gets_no_raise_button(world):
    engagement = world.a.objects["engagement"]
    engagement.end_date = timezone.now().date() - timedelta(days=5)
    engagement.save()
    assert 'id="raise-item"' not in dashboard(world.a.poc)


def test_the_home_in_korean(world):
    now = timezone.now()
    raise_case(world.a, "Late answer", **breached(now))
    raise_case(world.a, "Waiting one", status=Case.Status.AWAITING_CUSTOMER, first_response_at=now)
    world.a.poc.language = "ko"
    world.a.poc.save()
    body = dashboard(world.a.poc, HTTP_ACCEPT_LANGUAGE="ko")
    for text in (
        "케이스 등록",
        "모든 케이스 및 문의",
        "회신이 필요한 케이스",
        "미해결 케이스",
        "기한 초과",
        "응답 기한 3시간 초과",
        "최근 해결된 케이스",
    ):
        assert text in body, text
    assert "사례" not in body


def _count(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("dashboard")).status_code == 200
    return len(queries)


def _grow(world, n):
    now = timezone.now()
    for _ in range(n):
        step = next(_serial)
        raise_case(world.a, f"Open {step}", **(breached(now) if step % 2 else at_risk(now)))
        raise_case(
            world.a, f"Answered {step}", status=Case.Status.IN_PROGRESS, first_response_at=now
        )
        raise_case(
            world.a, f"Waiting {step}", status=Case.Status.AWAITING_CUSTOMER, first_response_at=now
        )
        raise_case(
            world.a,
            f"Resolved {step}",
            status=Case.Status.RESOLVED,
            resolved_at=now - timedelta(days=step % 10),
        )


@pytest.mark.parametrize("role", ["poc", "member"])
def test_the_home_issues_constant_queries_as_items_grow(world, role):
    client = signed_in(world.user(role))
    client.get(reverse("dashboard"))  # warm up: sessions, caches
    _grow(world, 3)
    few = _count(client)
    _grow(world, 30)
    assert _count(client) == few
