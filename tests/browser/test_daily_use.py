"""Daily use as its people meet it, in English and Korean: the customer's home (open items with
SLA badges, "Raise an item" first), the manager's queue with its count in the navigation, and the
customer rating a resolution. No CSP violation on the way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from cases.casework import services as casework_services
from cases.casework.models import Case
from cases.satisfaction.models import CaseRating
from tests.browser import test_csp as csp
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ko"]


@pytest.fixture
def watched(require_chromium, browser) -> Iterator:
    with csp.watched_page(browser) as page_and_violations:
        yield page_and_violations


def speaking(world, language: str) -> None:
    for person in (world.a.poc, world.manager):
        person.language = language
        person.save(update_fields=["language"])


def words(text: str, language: str) -> str:
    with translation.override(language):
        return str(translation.gettext(text))


def raise_case(world, subject: str, *, hours_left: float) -> Case:
    """An unanswered incident of tenant A, `hours_left` before its response objective."""
    case = casework_services.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="incident",
        severity=1,
        subject=subject,
    )
    due = timezone.now() + timedelta(hours=hours_left)
    Case.objects.filter(pk=case.pk).update(
        response_due_at=due, reminder_due_at=due - timedelta(hours=1)
    )
    return case


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_customer_home_shows_open_items_first_with_their_sla(
    watched, live_server, world, language
):
    page, violations = watched
    speaking(world, language)
    on_track = raise_case(world, "Invoices slow to load", hours_left=6)
    late = raise_case(world, "Checkout down", hours_left=-1)
    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)
    page.goto(f"{live_server.url}/")
    raise_button = page.locator("#raise-item")
    expect(raise_button).to_have_text(words("Raise an item", language))
    expect(page.locator("#home-open-count")).to_have_text("2")
    expect(page.locator("#home-breached-count")).to_have_text("1")
    expect(page.locator(f"#home-case-{late.pk}")).to_contain_text(words("Breached", language))
    expect(page.locator(f"#home-case-{on_track.pk}")).to_contain_text("Invoices slow to load")
    # "Raise an item" comes before anything else the page offers.
    first_button = page.locator("main a[role=button], main button").first
    expect(first_button).to_have_attribute("id", "raise-item")
    raise_button.click()
    expect(page).to_have_url(f"{live_server.url}/cases/new/")
    assert page.locator("html").get_attribute("lang") == language
    assert violations == [], violations


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_manager_finds_new_work_in_the_queue_counted_in_the_navigation(
    watched, live_server, world, language
):
    page, violations = watched
    speaking(world, language)
    fresh = raise_case(world, "New severity-1 outage", hours_left=3)
    unassigned = raise_case(world, "Nobody holds this yet", hours_left=5)
    Case.objects.filter(pk=unassigned.pk).update(assignee=None)
    sign_in(page, live_server.url, world.manager.email, PASSWORD)
    badge = page.locator("#nav-badge-staff_queue")
    expect(badge).to_contain_text("2")
    page.locator("nav a[href='/queue/']").first.click()
    expect(page).to_have_url(f"{live_server.url}/queue/")
    # Routed to its engagement's manager on arrival: it waits on them.
    section = page.locator("#queue-mine")
    expect(section.locator("h2")).to_contain_text(words("Waiting on me", language))
    expect(page.locator("#queue-new h2")).to_contain_text(words("New and unassigned", language))
    expect(page.locator(f"#queue-new-{unassigned.pk}")).to_contain_text("Nobody holds this yet")
    row = page.locator(f"#queue-mine-{fresh.pk}")
    expect(row).to_contain_text("New severity-1 outage")
    row.locator("a").first.click()
    expect(page).to_have_url(f"{live_server.url}/cases/{fresh.pk}/")
    assert violations == [], violations


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_customer_rates_a_resolution(watched, live_server, world, language):
    page, violations = watched
    speaking(world, language)
    case = raise_case(world, "Report export broken", hours_left=4)
    casework_services.case_comment(
        acting_user=world.manager, case=case, body="Looking into it.", public=True
    )
    casework_services.case_resolve(acting_user=world.manager, case=case, note="Fixed in 4.2.1.")
    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)
    page.goto(f"{live_server.url}/cases/{case.pk}/#rating")
    rating = page.locator("#rating")
    rating.locator("input[name=score][value='4']").check()
    rating.locator("textarea[name=comment]").fill("빠르게 해결해 주셔서 감사합니다.")
    with page.expect_navigation():
        rating.locator("button[type=submit]").click()
    expect(page.locator("#rating")).to_contain_text(
        words("%(score)s out of 5", language) % {"score": 4}
    )
    saved = CaseRating.objects.get(case=case)
    assert (saved.score, saved.comment) == (4, "빠르게 해결해 주셔서 감사합니다.")
    assert violations == [], violations
