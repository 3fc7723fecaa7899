"""Live pages in Debian's Chromium, two people at once (two browser contexts), in English and
Korean: the manager changes an item's status and the customer's list and unread badge show it
without a reload; the customer types a reply and the manager sees "… is replying"; polling
pauses while the tab is hidden; and not one Content-Security-Policy violation on the way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from cases.casework.models import Case
from tests.browser.conftest import sign_in
from tests.browser.test_csp import Violations
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "ko"]


@pytest.fixture
def fast_polls(settings) -> None:
    """The live server runs in this process: its pages poll every 2 s (presence every 1 s)."""
    settings.LIVE_POLL_SECONDS = 2
    settings.PRESENCE_POLL_SECONDS = 1


@pytest.fixture
def two_people(require_chromium, browser) -> Iterator:
    """Two browser contexts (two people), each watched for CSP violations."""
    violations = Violations()
    contexts, pages = [], []
    for _ in range(2):
        context = browser.new_context(locale="en-US")
        violations.watch(context)
        page = context.new_page()
        violations.watch_console(page)
        contexts.append(context)
        pages.append(page)
    try:
        yield pages[0], pages[1], violations
    finally:
        for context in contexts:
            context.close()


def in_language(world, language: str) -> None:
    for person in (world.a.poc, world.manager):
        person.language = language
        person.save(update_fields=["language"])


def open_case(world) -> Case:
    return Case.objects.create(
        engagement=world.a.objects["engagement"],
        kind=Case.Kind.INCIDENT,
        severity=Case.Severity.HIGH,
        subject="Orders stuck in the queue",
        received_at=timezone.now() - timedelta(hours=1),
        reminder_due_at=timezone.now() + timedelta(hours=5),
        response_due_at=timezone.now() + timedelta(hours=6),
        raised_by=world.a.poc,
    )


def label(choice, language: str) -> str:
    with translation.override(language):
        return str(choice.label)


def show(page, state: str) -> None:
    """What the tab says of its visibility (`hidden`: another tab is in front)."""
    page.evaluate(
        """(state) => {
          Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
          document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def settle(page) -> None:
    page.wait_for_timeout(300)
    page.evaluate("() => null")  # a round trip after the violation bindings' calls


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_list_follows_a_status_change_without_a_reload(
    two_people, fast_polls, live_server, world, language
):
    customer, manager, violations = two_people
    base = live_server.url
    in_language(world, language)
    case = open_case(world)

    sign_in(customer, base, world.a.poc.email, PASSWORD)
    customer.goto(f"{base}/cases/")
    row = customer.locator(f"#case-list-live tr#case-{case.pk}")
    expect(row).to_contain_text(label(Case.Status.NEW, language))
    unread = customer.locator("#nav-badge-notifications")
    expect(unread).to_be_empty()
    customer.evaluate("() => { window.sameDocument = true; }")

    sign_in(manager, base, world.manager.email, PASSWORD)
    manager.goto(f"{base}/cases/{case.pk}/")
    with manager.expect_navigation():
        manager.locator("button[name='status'][value='awaiting_customer']").click()

    # The customer's list shows it at the next poll, in the same document (no reload).
    expect(row).to_contain_text(label(Case.Status.AWAITING_CUSTOMER, language), timeout=15_000)
    # The customer was told: the navigation's unread badge follows too.
    expect(unread.locator(".nav-unread")).to_contain_text("1", timeout=15_000)
    assert customer.evaluate("() => window.sameDocument") is True
    assert customer.locator("html").get_attribute("lang") == language

    # Hidden, the tab asks nothing; shown again, it refreshes at once.
    polls: list[str] = []
    customer.on(
        "request",
        lambda request: polls.append(request.url) if "/fragment/" in request.url else None,
    )
    show(customer, "hidden")
    customer.wait_for_timeout(5_000)  # two and a half polling periods
    assert polls == []
    show(customer, "visible")
    customer.wait_for_timeout(1_000)  # less than a period: the refresh came from showing it
    assert any("/cases/fragment/" in url for url in polls), polls

    settle(customer)
    settle(manager)
    assert violations == [], violations


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_manager_sees_who_is_replying(two_people, fast_polls, live_server, world, language):
    manager, customer, violations = two_people
    base = live_server.url
    in_language(world, language)
    case = open_case(world)
    replying = {
        "en": f"{world.a.poc.get_short_name()} is replying…",
        "ko": f"{world.a.poc.get_short_name()} 님이 답변을 작성하고 있습니다…",
    }[language]

    sign_in(manager, base, world.manager.email, PASSWORD)
    manager.goto(f"{base}/cases/{case.pk}/")
    presence = manager.locator("#case-presence")
    expect(presence).to_be_empty()

    sign_in(customer, base, world.a.poc.email, PASSWORD)
    customer.goto(f"{base}/cases/{case.pk}/")
    box = customer.locator("textarea[name='body']")
    box.click()
    box.type("The queue holds 3,000 orders")
    expect(presence).to_have_text(replying, timeout=10_000)
    # The writer does not see themselves.
    expect(customer.locator("#case-presence")).to_be_empty()

    # Leaving the box ends it for the others.
    customer.locator("h1").click()
    expect(presence).to_be_empty(timeout=10_000)

    settle(customer)
    settle(manager)
    assert violations == [], violations
