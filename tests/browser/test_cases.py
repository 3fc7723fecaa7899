"""A PoC raises an item, the manager answers it from the queue, and the PoC sees the clock
stopped, in Debian's Chromium (two browser contexts: two people at once)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from cases.casework.models import Case
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SUBJECT = "Checkout fails with error 502"


def screenshot(page, artifacts_dir, name: str):
    path = artifacts_dir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0
    return path


def row_of(page, case: Case):
    return page.locator(f"tr#case-{case.pk}")


def test_poc_raises_an_item_and_sees_the_managers_response(
    require_chromium, transactional_db, live_server, world, page, browser, artifacts_dir
):
    base = live_server.url
    engagement = world.a.objects["engagement"]

    # The PoC raises the item through the form, which shows the response objective.
    sign_in(page, base, world.a.poc.email, PASSWORD)
    response = page.goto(f"{base}/cases/new/")
    assert response is not None and response.ok
    page.locator("select[name='engagement']").select_option(str(engagement.pk))
    preview = page.locator("#due-preview")
    expect(preview).to_contain_text("within 1 business day")
    expect(preview).to_contain_text("a response is due by")
    page.locator("select[name='kind']").select_option("incident")
    page.locator("select[name='severity']").select_option("1")
    page.locator("input[name='subject']").fill(SUBJECT)
    page.locator("textarea[name='description']").fill("Since the deployment at 09:00.")
    screenshot(page, artifacts_dir, "case-raise.png")
    with page.expect_navigation():
        page.get_by_role("button", name="Raise the item").click()

    case = Case.objects.get(subject=SUBJECT)
    assert urlparse(page.url).path == f"/cases/{case.pk}/"
    expect(page.locator(".messages")).to_contain_text("A response is due by")
    page.goto(f"{base}/cases/")
    expect(row_of(page, case)).to_contain_text(SUBJECT)
    expect(row_of(page, case).locator(".sla-badge")).to_have_text(re.compile("on track", re.I))

    # The manager, in a browser of their own, opens the queue and answers publicly.
    context = browser.new_context(locale="en-US")
    try:
        manager = context.new_page()
        sign_in(manager, base, world.manager.email, PASSWORD)
        manager.goto(f"{base}/cases/")
        expect(manager.locator("h1")).to_have_text("My queue")
        expect(row_of(manager, case)).to_contain_text(SUBJECT)
        expect(manager.locator("#my-load")).to_contain_text("1 of 30")
        screenshot(manager, artifacts_dir, "manager-queue.png")
        with manager.expect_navigation():
            row_of(manager, case).get_by_role("link").first.click()
        manager.locator("textarea[name='body']").fill("We are on it: the gateway is restarting.")
        manager.get_by_role("button", name="Post").click()  # htmx swaps the timeline
        expect(manager.locator("#conversation")).to_contain_text("the gateway is restarting")
        expect(manager.locator("#case-facts .sla-badge")).to_have_text(
            re.compile("responded", re.I)
        )
    finally:
        context.close()

    case.refresh_from_db()
    assert case.first_response_at is not None and case.first_response_by == world.manager

    # Back as the PoC: the badge says the item was responded to.
    page.goto(f"{base}/cases/")
    badge = row_of(page, case).locator(".sla-badge")
    expect(badge).to_have_text(re.compile("responded", re.I))
    screenshot(page, artifacts_dir, "case-responded.png")
