"""An admin edits the entitlement matrix as a grid, in Debian's Chromium."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from engagements.catalog.models import Entitlement, Plan, ServiceFunction
from tests.browser.conftest import enter_totp, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def checkbox(page, plan_code: str, function_code: str):
    plan = Plan.objects.get(code=plan_code)
    function = ServiceFunction.objects.get(code=function_code)
    return page.locator(f"input[type='checkbox'][name='cell-{plan.pk}-{function.pk}']")


def included(plan_code: str, function_code: str) -> bool:
    return Entitlement.objects.filter(plan__code=plan_code, function__code=function_code).exists()


def test_admin_toggles_cells_of_the_entitlement_matrix(
    require_chromium, transactional_db, live_server, world, page, artifacts_dir
):
    assert included("standard", "release_management")
    assert not included("standard", "case_management")
    sign_in(page, live_server.url, world.admin.email, PASSWORD)
    enter_totp(page, world.admin.totp_secret)

    response = page.goto(f"{live_server.url}/catalog/")
    assert response is not None and response.ok
    release = checkbox(page, "standard", "release_management")
    cases = checkbox(page, "standard", "case_management")
    assert release.is_checked() and not cases.is_checked()
    assert page.locator("table.catalog-grid input[type='checkbox']:checked").count() == (
        Entitlement.objects.count()
    )

    release.click()
    cases.click()
    assert not release.is_checked() and cases.is_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Save matrix").click()

    assert urlparse(page.url).path == "/catalog/"
    assert "Entitlement matrix saved: 1 added, 1 removed." in page.locator(".messages").inner_text()
    assert not included("standard", "release_management")
    assert included("standard", "case_management")
    assert not checkbox(page, "standard", "release_management").is_checked()
    assert checkbox(page, "standard", "case_management").is_checked()

    rows = page.locator("section.catalog-history tbody tr")
    # Newest first: the two changes just made (the seed is not in the audit trail).
    texts = [rows.nth(index).inner_text() for index in range(2)]
    added = next(text for text in texts if "Case management" in text)
    removed = next(text for text in texts if "Release management" in text)
    for text in (added, removed):
        assert world.admin.name in text and "SaaS Standard Service Management" in text
    assert "+ added" in added and "- removed" in removed

    page.screenshot(path=str(artifacts_dir / "catalog-matrix.png"), full_page=True)

    response = page.goto(f"{live_server.url}/catalog/cadences/")
    assert response is not None and response.ok
    page.screenshot(path=str(artifacts_dir / "catalog-cadences.png"), full_page=True)
