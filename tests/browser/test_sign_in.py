"""Signing in through the real sign-in pages, in Debian's Chromium."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import enter_totp, sign_in
from tests.factories import PASSWORD, AdminFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def path_of(page) -> str:
    return urlparse(page.url).path


def screenshot(page, artifacts_dir, name: str):
    path = artifacts_dir / name
    page.screenshot(path=str(path), full_page=True)
    assert path.exists() and path.stat().st_size > 0
    return path


def test_admin_signs_in_with_totp_and_reaches_dashboard(
    require_chromium, transactional_db, live_server, world, page, artifacts_dir
):
    sign_in(page, live_server.url, world.admin.email, PASSWORD)
    assert path_of(page) == "/accounts/2fa/authenticate/"

    enter_totp(page, world.admin.totp_secret)

    assert path_of(page) == "/"
    heading = page.locator("h1")
    assert "Welcome" in heading.inner_text()
    assert world.admin.get_short_name() in heading.inner_text()
    screenshot(page, artifacts_dir, "admin-dashboard.png")


def test_poc_signs_in_and_sees_only_own_organization(
    require_chromium, transactional_db, live_server, world, page, artifacts_dir
):
    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)

    assert path_of(page) == "/"
    content = page.locator("main").inner_text()
    assert world.a.organization.name in content
    assert world.b.organization.name not in page.content()
    screenshot(page, artifacts_dir, "poc-dashboard.png")


def test_korean_dashboard_renders(
    require_chromium, transactional_db, live_server, world, page, artifacts_dir
):
    world.a.poc.language = "ko"
    world.a.poc.save()

    sign_in(page, live_server.url, world.a.poc.email, PASSWORD)
    assert path_of(page) == "/"
    response = page.goto(live_server.url + "/")
    assert response is not None and response.ok

    assert page.locator("html").get_attribute("lang") == "ko"
    assert world.a.organization.name in page.locator("main").inner_text()
    screenshot(page, artifacts_dir, "poc-dashboard-ko.png")


def test_admin_without_totp_is_sent_to_totp_setup(
    require_chromium, transactional_db, live_server, world, page, artifacts_dir
):
    admin = AdminFactory(email="new.admin@provider.test", name="Nora New", totp=False)

    sign_in(page, live_server.url, admin.email, PASSWORD)

    # allauth (MFA_REAUTHENTICATION_REQUIRED, on by default) does not count the sign-in that
    # just happened as a re-authentication, so it asks for the password once more first.
    if path_of(page) == "/accounts/reauthenticate/":
        assert parse_qs(urlparse(page.url).query)["next"] == ["/accounts/2fa/totp/activate/"]
        form = page.locator("form:has(input[name='password'])")
        form.locator("input[name='password']").fill(PASSWORD)
        with page.expect_navigation():
            form.locator("[type='submit']").first.click()

    assert "/accounts/2fa/totp/activate" in page.url
    assert page.locator("input[name='code']").count() == 1
    screenshot(page, artifacts_dir, "admin-totp-setup.png")
