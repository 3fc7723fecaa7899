"""A customer types into the header's search box, in English and in Korean, and opens what it
found, in Debian's Chromium: results grouped by kind with the words marked, no other tenant's
item, and no Content-Security-Policy violation on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from cases.casework import services as casework_services
from tests.browser import test_csp as csp
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def raise_case(tenant, subject, description):
    return casework_services.case_raise(
        acting_user=tenant.poc,
        engagement=tenant.objects["engagement"],
        kind="incident",
        severity=1,
        subject=subject,
        description=description,
    )


@pytest.fixture
def watched_page(require_chromium, browser):
    with csp.watched_page(browser, "en-US") as watched:
        yield watched


def search_from_the_header(page, words: str) -> None:
    box = page.locator("header form[role=search] input[name=q]")
    expect(box).to_be_visible()
    box.fill(words)
    with page.expect_navigation():
        box.press("Enter")


@pytest.mark.parametrize(
    ("language", "words", "heading", "cases_label"),
    [
        ("en", "checkout", "Search", "Cases"),
        ("ko", "서버", "검색", "케이스"),
    ],
)
def test_a_customer_searches_from_the_header_and_opens_the_item(
    transactional_db,
    live_server,
    world,
    watched_page,
    artifacts_dir,
    language,
    words,
    heading,
    cases_label,
):
    page, violations = watched_page
    world.a.poc.language = language
    world.a.poc.save()
    own = raise_case(
        world.a,
        "Checkout 결제 장애",
        "어제 밤부터 결제 서버가 응답하지 않습니다. The checkout fails.",
    )
    other = raise_case(
        world.b, "Checkout 결제 장애 (B)", "결제 서버가 멈췄습니다. The checkout fails."
    )

    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)
    search_from_the_header(page, words)

    assert page.url.startswith(f"{live_server.url}/search/?q=")
    assert page.locator("html").get_attribute("lang") == language
    expect(page.locator("main h1")).to_have_text(heading)
    cases = page.locator("#search-case")
    expect(cases.locator("h2")).to_contain_text(cases_label)
    expect(cases.locator("h2 .badge")).to_have_text("1")
    expect(page.locator(f"#search-case-{own.pk} mark").first).to_have_text(words, ignore_case=True)
    expect(page.locator(f"#search-case-{other.pk}")).to_have_count(0)
    expect(page.locator("header input[name=q]")).to_have_value(words)
    page.screenshot(path=str(artifacts_dir / f"search-{language}.png"), full_page=True)

    with page.expect_navigation():
        page.locator(f"#search-case-{own.pk} a").click()
    assert page.url == f"{live_server.url}/cases/{own.pk}/"
    expect(page.locator("main h1")).to_contain_text("Checkout")
    assert violations == []
