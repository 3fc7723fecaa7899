"""The staff queue (cases/queue): its sections, who sees what, the navigation's count and
constant queries."""

from __future__ import annotations

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
from cases.queue.selectors import queue_count
from tests.conftest import page_client

pytestmark = pytest.mark.django_db

_serial = itertools.count(1)


def raise_case(world, subject, *, tenant=None, severity=2):
    tenant = tenant or world.a
    return casework_services.case_raise(
        acting_user=tenant.poc,
        engagement=tenant.objects["engagement"],
        kind="incident",
        severity=severity,
        subject=subject,
        description="It does not work.",
    )


def section(html, key):
    """The HTML of one section of the queue page."""
    match = re.search(rf'<section id="queue-{key}".*?</section>', html, re.S)
    assert match, key
    return match.group(0)


def queue_page(user):
    response = page_client(user).get(reverse("staff_queue"))
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def overdue(case, *, breached):
    """Move the item's window into the past: past its 75 % time, and past due if `breached`."""
    now = timezone.now()
    case.reminder_due_at = now - timedelta(hours=2)
    case.response_due_at = now - timedelta(hours=1) if breached else now + timedelta(hours=3)
    Case.objects.filter(pk=case.pk).update(
        reminder_due_at=case.reminder_due_at, response_due_at=case.response_due_at
    )
    return case


def test_each_section_lists_its_items(world):
    unassigned = raise_case(world, "Severity one, nobody on it", severity=1)
    casework_services.case_assign(acting_user=world.admin, case=unassigned, assignee=None)
    mine = raise_case(world, "Assigned to me")  # the responsible manager gets it
    replied = raise_case(world, "Customer replied")
    waiting_on_them = raise_case(world, "Awaiting the customer")
    for case in (replied, waiting_on_them):
        casework_services.case_set_status(
            acting_user=world.manager, case=case, status=Case.Status.AWAITING_CUSTOMER
        )
    casework_services.case_comment(acting_user=world.a.poc, case=replied, body="Here you go")
    at_risk = overdue(raise_case(world, "Getting late"), breached=False)
    breached = overdue(raise_case(world, "Too late"), breached=True)
    answered = overdue(raise_case(world, "Answered in time"), breached=True)
    casework_services.case_comment(acting_user=world.manager, case=answered, body="On it")

    html = queue_page(world.manager)
    new = section(html, "new")
    assert "Severity one, nobody on it" in new and "Assigned to me" not in new
    assert "sla-on_track" in new and "1 · High" in new
    mine_html = section(html, "mine")
    for subject in ("Assigned to me", "Customer replied"):
        assert subject in mine_html
    assert "Awaiting the customer" not in mine_html
    assert "Severity one, nobody on it" not in mine_html
    risk_html, breached_html = section(html, "at_risk"), section(html, "breached")
    assert "Getting late" in risk_html and "Too late" not in risk_html
    assert "Too late" in breached_html and "Getting late" not in breached_html
    assert "sla-breached" in breached_html and "sla-at_risk" in risk_html
    assert "Answered in time" not in risk_html + breached_html
    assert f'id="queue-mine-{mine.pk}"' in mine_html
    assert f'id="queue-at_risk-{at_risk.pk}"' in risk_html
    assert f'id="queue-breached-{breached.pk}"' in breached_html


def test_the_queue_speaks_korean(world):
    world.manager.language = "ko"
    world.manager.save()
    unassigned = raise_case(world, "Nobody on it")
    casework_services.case_assign(acting_user=world.admin, case=unassigned, assignee=None)
    html = queue_page(world.manager)
    for text in ("업무 대기열", "신규 · 미배정", "내 응답 대기", "미배정", "대기열 <span"):
        assert text in html, text


def test_another_managers_engagement_stays_out(world):
    ours = raise_case(world, "Ours, unassigned")
    casework_services.case_assign(acting_user=world.admin, case=ours, assignee=None)
    theirs = raise_case(world, "Theirs, unassigned", tenant=world.b)
    casework_services.case_assign(acting_user=world.admin, case=theirs, assignee=None)
    overdue(raise_case(world, "Theirs, breached", tenant=world.b), breached=True)

    html = queue_page(world.manager)
    assert "Ours, unassigned" in html
    assert "Theirs" not in html
    other = queue_page(world.other_manager)
    assert "Theirs, unassigned" in other and "Theirs, breached" in other
    assert "Ours, unassigned" not in other
    admin = queue_page(world.admin)  # admins see every engagement
    assert "Ours, unassigned" in admin and "Theirs, unassigned" in admin


def test_customers_get_403(world):
    for customer in (world.a.poc, world.a.member):
        assert page_client(customer).get(reverse("staff_queue")).status_code == 403


def test_navigation_counts_what_needs_the_viewer(world):
    url = reverse("staff_queue")
    html = queue_page(world.manager)
    assert f'href="{url}"' in html and "nav-count" not in html  # nothing waiting: no badge

    unassigned = raise_case(world, "Unassigned")
    casework_services.case_assign(acting_user=world.admin, case=unassigned, assignee=None)
    raise_case(world, "Mine")
    overdue(raise_case(world, "Mine and breached"), breached=True)  # counted once
    raise_case(world, "Theirs", tenant=world.b)
    assert queue_count(world.manager, timezone.now()) == 3

    html = queue_page(world.manager)
    badge = re.search(r'nav-count"><span aria-hidden="true">(\d+)<', html)
    assert badge and badge.group(1) == "3"
    assert queue_count(world.other_manager, timezone.now()) == 1
    # Customers have no queue link.
    poc = page_client(world.a.poc).get(reverse("dashboard")).content.decode()
    assert f'href="{url}"' not in poc


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def grow(world, n):
    """Items of every section on both engagements."""
    for _ in range(n):
        step = next(_serial)
        case = raise_case(world, f"Grown {step}", severity=step % 4)
        if step % 2:
            casework_services.case_assign(acting_user=world.admin, case=case, assignee=None)
        if step % 3 == 0:
            overdue(case, breached=step % 2 == 0)
        raise_case(world, f"Grown B {step}", tenant=world.b)


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_the_queue_and_its_count_issue_constant_queries(world, role):
    client = page_client(world.user(role))
    url = reverse("staff_queue")
    grow(world, 3)
    client.get(url)  # warm up: sessions, caches
    few = _count(client, url)
    grow(world, 27)
    assert _count(client, url) == few


def test_a_row_shows_each_cell_formatted_in_the_viewers_language_and_zone(world):
    """The rows are written in Python (`queue_rows`): each cell as the template loop wrote it —
    the SLA badge with its due time, who holds the item, the engagement and its organization,
    the severity, the age and the due time in the viewer's zone — in Korean too."""
    from portal.accounts.models import User

    unassigned = raise_case(world, "Nobody <holds> this", severity=1)
    casework_services.case_assign(acting_user=world.admin, case=unassigned, assignee=None)
    late = overdue(raise_case(world, "Breached & held"), breached=True)
    User.objects.filter(pk=world.manager.pk).update(time_zone="Asia/Seoul", language="ko")
    world.manager.refresh_from_db()
    late.refresh_from_db()
    unassigned.refresh_from_db()

    html = queue_page(world.manager)
    new = section(html, "new")
    row = re.search(rf'<tr id="queue-new-{unassigned.pk}">.*?</tr>', new, re.S).group(0)
    assert f"#{unassigned.pk} Nobody &lt;holds&gt; this</a>" in row
    assert '<small class="muted">미배정</small>' in row  # "Unassigned"
    assert world.a.organization.name in row
    assert 'class="badge badge-warn"' in row  # severity 1

    breached = section(html, "breached")
    row = re.search(rf'<tr id="queue-breached-{late.pk}">.*?</tr>', breached, re.S).group(0)
    assert 'sla-breached badge-alert" title="응답 기한' in row and ">기한 초과</span>" in row
    assert "Breached &amp; held" in row
    seoul = timezone.localtime(late.response_due_at, timezone.get_fixed_timezone(9 * 60))
    assert f"{seoul:%H:%M}" in row  # the due time in the viewer's zone, not UTC's
    assert "분" in row or "시간" in row  # the age, in Korean
    assert str(late.assignee.get_short_name()) in row or str(late.assignee) in row


def test_the_navigation_badge_stops_counting_past_its_maximum(world, monkeypatch):
    """An admin's queue spans every engagement: the badge counts up to NAV_COUNT_MAX and shows
    "999+" (here "2+") past it, so its query reads a bounded number of rows."""
    import cases.queue.selectors as queue_selectors
    import portal.context_processors as context_processors

    monkeypatch.setattr(queue_selectors, "NAV_COUNT_MAX", 2)
    monkeypatch.setattr(context_processors, "NAV_COUNT_MAX", 2)
    for n in range(4):
        case = raise_case(world, f"Waiting {n}")
        casework_services.case_assign(acting_user=world.admin, case=case, assignee=None)
    assert queue_count(world.admin, timezone.now()) == 3  # counting stopped at 2 + 1
    html = queue_page(world.admin)
    badge = re.search(r'nav-count"><span aria-hidden="true">([^<]+)<', html)
    assert badge and badge.group(1) == "2+"
    assert "More than 2 items" in html
