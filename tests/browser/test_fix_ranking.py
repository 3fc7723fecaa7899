"""A named contact ranks the engagement's fix requests in Debian's Chromium: with the number
inputs, and by dragging a row; the order persists across reloads and in the database."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.fixes import services as fix_services
from cases.fixes.models import FixRequest
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TITLES = ("Export times out", "Search ignores accents", "Report totals are off")


def screenshot(page, artifacts_dir, name: str):
    path = artifacts_dir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0
    return path


def make_requests(world) -> list[FixRequest]:
    return [
        fix_services.fix_request_create(
            acting_user=world.a.poc, engagement=world.a.objects["engagement"], title=title
        )
        for title in TITLES
    ]


def shown_order(page) -> list[str]:
    return [text.strip() for text in page.locator("#ranked tbody .fix-title").all_inner_texts()]


def stored_order(world) -> list[str]:
    return list(
        FixRequest.objects.filter(engagement=world.a.objects["engagement"])
        .order_by("customer_rank")
        .values_list("title", flat=True)
    )


def test_poc_reorders_with_number_inputs(
    require_chromium, transactional_db, live_server, world, page, artifacts_dir
):
    first, second, third = make_requests(world)
    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)
    url = f"{live_server.url}/engagements/{world.a.objects['engagement'].pk}/fixes/"
    response = page.goto(url)
    assert response is not None and response.ok
    assert shown_order(page) == list(TITLES)

    page.locator(f"input[name='rank-{third.pk}']").fill("1")
    page.locator(f"input[name='rank-{first.pk}']").fill("2")
    page.locator(f"input[name='rank-{second.pk}']").fill("3")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the ranking").click()
    expect(page.locator(".messages")).to_contain_text("The ranking was saved.")
    expected = [TITLES[2], TITLES[0], TITLES[1]]
    assert shown_order(page) == expected

    page.reload()
    assert shown_order(page) == expected
    assert page.locator(f"input[name='rank-{third.pk}']").input_value() == "1"
    assert stored_order(world) == expected
    screenshot(page, artifacts_dir, "fix-ranking.png")


def test_poc_reorders_by_dragging(
    require_chromium, transactional_db, live_server, world, page, artifacts_dir
):
    first, _second, third = make_requests(world)
    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)
    page.goto(f"{live_server.url}/engagements/{world.a.objects['engagement'].pk}/fixes/")

    # Drag the last request onto the top half of the first row: it becomes number 1.
    with page.expect_navigation():
        page.locator(f"tr#fix-{third.pk}").drag_to(
            page.locator(f"tr#fix-{first.pk}"), target_position={"x": 20, "y": 2}
        )
    expected = [TITLES[2], TITLES[0], TITLES[1]]
    page.reload()
    assert shown_order(page) == expected
    assert stored_order(world) == expected
