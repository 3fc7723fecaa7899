"""A service manager sorts the case list by a column, saves the view, reopens it, and assigns
two items at once to the deputy, in Debian's Chromium, in English and in Korean, with no CSP
violation on the way."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from cases.casework import services
from cases.casework.models import Case
from cases.savedviews.models import SavedView
from tests.browser.conftest import sign_in
from tests.browser.test_csp import Violations
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {"assigned": "2 items assigned to", "saved": "Saved the view"},
    "ko": {"assigned": "케이스 2건을", "saved": "저장했습니다"},
}


def subjects(page) -> list[str]:
    rows = page.locator("table.case-table tbody tr td:nth-child(2) a")
    return [text.split(" ", 1)[1] for text in rows.all_inner_texts()]


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


@pytest.mark.parametrize("language", ["en", "ko"])
def test_manager_sorts_saves_a_view_reopens_it_and_bulk_assigns(
    require_chromium, transactional_db, live_server, world, browser, artifacts_dir, language
):
    base = live_server.url
    engagement = world.a.objects["engagement"]
    for subject, severity in (("bravo", 1), ("alpha", 2), ("charlie", 3)):
        case = services.case_raise(
            acting_user=world.a.poc,
            engagement=engagement,
            kind="inquiry",
            severity=severity,
            subject=subject,
        )
        services.case_assign(acting_user=world.admin, case=case, assignee=None)
    world.manager.language = language
    world.manager.save()

    context = browser.new_context(locale="en-US")
    violations = Violations()
    violations.watch(context)
    page = context.new_page()
    violations.watch_console(page)
    try:
        sign_in(page, base, world.manager.email, PASSWORD)
        page.goto(f"{base}/cases/")
        assert page.locator("html").get_attribute("lang") == language

        # Sort by the item column: ascending, then descending; the header says which.
        with page.expect_navigation():
            page.locator("a.sort-link[data-sort='subject']").click()
        assert query_of(page)["sort"] == ["subject"]
        assert subjects(page) == ["alpha", "bravo", "charlie"]
        header = page.locator("th:has(a.sort-link[data-sort='subject'])")
        expect(header).to_have_attribute("aria-sort", "ascending")
        with page.expect_navigation():
            page.locator("a.sort-link[data-sort='subject']").click()
        assert subjects(page) == ["charlie", "bravo", "alpha"]
        expect(header).to_have_attribute("aria-sort", "descending")

        # Save it as a view.
        page.locator("#saved-views summary").click()
        form = page.locator("form.saved-view-form")
        form.locator("input[name='name']").fill("Z first")
        with page.expect_navigation():
            form.locator("button[type='submit']").click()
        expect(page.locator(".messages")).to_contain_text(WORDS[language]["saved"])
        view = SavedView.objects.get(owner=world.manager)
        assert view.query == "sort=-subject"

        # Back to the list in its usual order, then reopen the view from its link.
        page.goto(f"{base}/cases/?reset=1")
        assert "sort" not in query_of(page)
        expect(page.locator("#saved-views")).to_have_attribute("open", "")  # there are views
        with page.expect_navigation():
            page.locator("#saved-views a", has_text="Z first").click()
        assert query_of(page)["sort"] == ["-subject"]
        assert subjects(page) == ["charlie", "bravo", "alpha"]
        artifacts = artifacts_dir / f"case-list-sorted-{language}.png"
        page.screenshot(path=str(artifacts), full_page=True)

        # Tick two items and assign them to the deputy at once.
        picked = list(Case.objects.filter(subject__in=["alpha", "charlie"]))
        for case in picked:
            page.locator(f"#pick-{case.pk}").check()
        deputy = engagement.deputy
        page.locator("#bulk_assignee").select_option(str(deputy.pk))
        with page.expect_navigation():
            page.locator("button[name='action'][value='assign']").click()
        expect(page.locator(".messages")).to_contain_text(WORDS[language]["assigned"])
        expect(page.locator(".messages")).to_contain_text(deputy.name)
        assert query_of(page)["sort"] == ["-subject"]  # back to the same view
        for case in picked:
            expect(page.locator(f"tr#case-{case.pk}")).to_contain_text(deputy.name)
        assert set(Case.objects.filter(assignee=deputy).values_list("subject", flat=True)) == {
            "alpha",
            "charlie",
        }
        page.wait_for_load_state("load")
        assert list(violations) == []
    finally:
        context.close()
