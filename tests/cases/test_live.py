"""Live lists (portal.live): the case list's, the queue's, the board's and the home's fragments
answer only their block, with the page's filters and scope, and 204 when nothing changed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from cases.casework import services as casework_services
from tests.cases.test_queue import overdue, raise_case
from tests.conftest import page_client

pytestmark = pytest.mark.django_db


def get(user, name, **params):
    return page_client(user).get(reverse(name), params, HTTP_HX_REQUEST="true")


def test_the_list_fragment_is_the_list_without_the_layout(world):
    raise_case(world, "Printer on fire")
    response = get(world.a.poc, "case_list_fragment")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Printer on fire" in html and 'class="case-table"' in html
    assert "<html" not in html and "<nav" not in html and "filter-form" not in html
    assert "no-store" in response["Cache-Control"]
    # The page holds the same rows inside its polling container.
    page = page_client(world.a.poc).get(reverse("case_list")).content.decode()
    assert 'id="case-list-live"' in page and 'hx-get="/cases/fragment/"' in page
    assert 'hx-trigger="every 20s, live-refresh"' in page


def test_the_list_fragment_keeps_the_filters_and_the_scope(world):
    raise_case(world, "Slow search", severity=1)
    raise_case(world, "Broken login", severity=3)
    raise_case(world, "Theirs", tenant=world.b)
    html = get(world.manager, "case_list_fragment", severity="1").content.decode()
    assert "Slow search" in html and "Broken login" not in html
    everything = get(world.manager, "case_list_fragment").content.decode()
    assert "Broken login" in everything and "Theirs" not in everything
    # The page hands its query string to its poller.
    page = page_client(world.manager).get(reverse("case_list"), {"severity": "1"})
    assert 'hx-get="/cases/fragment/?severity=1"' in page.content.decode()


def test_an_unchanged_fragment_answers_204_and_a_change_answers_it_anew(world):
    case = raise_case(world, "Disk full")
    first = get(world.manager, "case_list_fragment")
    etag = first["ETag"]
    client = page_client(world.manager)
    same = client.get(reverse("case_list_fragment"), HTTP_IF_NONE_MATCH=etag)
    assert same.status_code == 204 and same.content == b"" and same["ETag"] == etag
    casework_services.case_set_status(
        acting_user=world.manager, case=case, status="awaiting_customer", note=""
    )
    changed = client.get(reverse("case_list_fragment"), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert "Awaiting customer" in changed.content.decode()


def test_the_queue_fragment_lists_the_sections_for_staff_only(world):
    overdue(raise_case(world, "Late one"), breached=True)
    html = get(world.manager, "staff_queue_fragment").content.decode()
    assert 'id="queue-breached"' in html and "Late one" in html and "<nav" not in html
    assert get(world.a.poc, "staff_queue_fragment").status_code == 403


def test_the_board_fragment_follows_the_engagement_filter(world):
    html = get(world.admin, "weekly_board_fragment").content.decode()
    assert "Engagement A" in html and "Engagement B" in html and "<nav" not in html
    engagement = world.a.objects["engagement"]
    html = get(world.admin, "weekly_board_fragment", engagement=engagement.pk).content.decode()
    assert "Engagement A" in html and "Engagement B" not in html
    assert get(world.a.poc, "weekly_board_fragment").status_code == 403


def test_the_home_fragment_is_the_customers_items(world):
    raise_case(world, "Our outage")
    raise_case(world, "Their outage", tenant=world.b)
    for customer in (world.a.poc, world.a.member):
        html = get(customer, "dashboard_fragment").content.decode()
        assert "Our outage" in html and "Their outage" not in html
        assert 'id="home-open-count">1<' in html and "<nav" not in html
    # A manager's dashboard is the board (a redirect): the poller is told to stop.
    assert get(world.manager, "dashboard_fragment").status_code == 286


def test_a_signed_out_poller_is_told_to_stop(world, client):
    assert client.get(reverse("case_list_fragment")).status_code == 286
    assert client.get(reverse("nav_badges")).status_code == 286


def badges(user):
    response = get(user, "nav_badges")
    assert response.status_code == 200
    html = response.content.decode()
    return {
        slot: re.sub(r"<[^>]+>", " ", inner).split()
        for slot, inner in re.findall(
            r'<span id="nav-badge-([\w-]+)" class="nav-badge" hx-swap-oob="true">'
            r'(.*?)</span>(?=<span id="nav-badge|$)',
            html,
        )
    }


def test_the_badges_count_as_the_navigation_does(world):
    assert badges(world.manager) == {"staff_queue": [], "notifications": []}
    raise_case(world, "New for the manager")  # notifies the manager, waits in the queue
    raise_case(world, "New for someone else", tenant=world.b)
    counted = badges(world.manager)
    assert counted["staff_queue"][0] == "1"
    assert counted["notifications"][0] == "1"
    # Customers have no queue link; their unread notifications only.
    assert set(badges(world.a.poc)) == {"notifications"}
    # The page's slots are the ones the poll fills.
    page = page_client(world.manager).get(reverse("case_list")).content.decode()
    assert 'id="nav-badge-staff_queue"' in page and 'id="nav-badge-notifications"' in page
    assert 'hx-get="/me/badges/"' in page and 'hx-swap="none"' in page
