"""In Debian's Chromium: a customer signs in through their organization's OpenID Connect
provider, a real one in a second process (tests/sso/oidc_provider.py), from the sign-in page's
single sign-on step; a person whose organization requires it is refused a password sign-in
and pointed to the button. No CSP violation on the way (the redirect to the provider is a
form's)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from allauth.socialaccount.models import SocialAccount

from portal.sso import services
from tests.browser import test_csp as csp
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched_page(require_chromium, browser):
    with csp.watched_page(browser) as watched:
        yield watched


def test_a_customer_signs_in_through_the_organizations_provider(
    transactional_db,
    live_server,
    world,
    oidc_provider,
    watched_page,
    artifacts_dir,
):
    page, violations = watched_page
    connection = services.sso_connection_create(
        acting_user=world.admin,
        organization=world.a.organization,
        name="Tenant A Login",
        issuer=oidc_provider.url,
        client_id="portal-tenant-a",
        client_secret="browser-secret",
        domains=["a.test"],
        require_sso=True,
    )
    oidc_provider.set_user(
        "member-a", email=world.a.member.email, email_verified=True, name="Member A"
    )

    # The password is refused, with the way to the button.
    page.goto(f"{live_server.url}/accounts/login/")
    form = page.locator("form:has(input[name='password'])")
    form.locator("input[name='login']").fill(world.a.member.email)
    form.locator("input[name='password']").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("[type='submit']").first.click()
    assert urlparse(page.url).path == "/accounts/login/"
    assert 'use "Sign in with Tenant A Login" below' in page.locator("main").inner_text()

    # The single sign-on step finds the organization's provider by the address's domain.
    page.locator("#sso-email").fill(world.a.member.email)
    with page.expect_navigation():
        page.locator("section.sso-lookup button[type='submit']").click()
    assert urlparse(page.url).path == "/sign-in/sso/"
    button = page.get_by_role("button", name="Sign in with Tenant A Login")
    page.screenshot(path=str(artifacts_dir / "sso-start.png"), full_page=True)
    with page.expect_navigation():
        button.click()

    # The provider's own authorization form, on its own origin.
    assert page.url.startswith(f"{oidc_provider.url}/oauth2/authorize?")
    assert f"client_id={connection.client_id}" in page.url
    page.locator("input[name='sub']").fill("member-a")
    with page.expect_navigation():
        page.get_by_role("button", name="Authorize").click()

    # Back at the portal, signed in as the provisioned member.
    page.wait_for_url(f"{live_server.url}/")
    assert world.a.organization.name in page.locator("main").inner_text()
    assert world.a.member.get_short_name() in page.locator("h1").inner_text()
    account = SocialAccount.objects.get(uid="member-a")
    assert (account.user, account.provider) == (world.a.member, connection.provider_id)
    page.screenshot(path=str(artifacts_dir / "sso-signed-in.png"), full_page=True)
    assert violations == []


def test_the_direct_link_refuses_an_unverified_address_in_korean(
    transactional_db,
    live_server,
    world,
    oidc_provider,
    require_chromium,
    browser,
):
    services.sso_connection_create(
        acting_user=world.admin,
        organization=world.a.organization,
        name="Tenant A Login",
        issuer=oidc_provider.url,
        client_id="portal-tenant-a",
        client_secret="browser-secret",
        domains=["a.test"],
    )
    oidc_provider.set_user("poc-a", email=world.a.poc.email, email_verified=False)
    with csp.watched_page(browser, "ko-KR") as (page, violations):
        page.goto(f"{live_server.url}/sign-in/sso/{world.a.organization.slug}/")
        with page.expect_navigation():
            page.get_by_role("button", name="Tenant A Login(으)로 로그인").click()
        page.locator("input[name='sub']").fill("poc-a")
        with page.expect_navigation():
            page.get_by_role("button", name="Authorize").click()
        page.wait_for_url(f"{live_server.url}/accounts/oidc/**")
        refusal = page.locator(".sso-refusal")
        assert refusal.get_attribute("data-code") == "unverified_email"
        assert "이메일 주소를 인증하지 않았으므로" in refusal.inner_text()
        assert violations == []


def test_a_customer_signs_in_through_the_organizations_saml_idp(
    transactional_db,
    live_server,
    world,
    saml_idp,
    watched_page,
    artifacts_dir,
):
    """SAML 2.0 in a real browser: the button redirects to the IdP with the AuthnRequest, the
    IdP's page posts the signed response to the portal's ACS (a cross-site POST: the ACS
    keeps it and redirects, so the session cookie comes back on the next step), signed in."""
    page, violations = watched_page
    connection = services.sso_connection_create(
        acting_user=world.admin,
        organization=world.a.organization,
        name="Tenant A SAML",
        protocol="saml",
        saml_entity_id=saml_idp.entity_id,
        saml_sso_url=saml_idp.sso_url,
        saml_certificate=saml_idp.certificate(),
        domains=["a.test"],
        require_sso=True,
    )
    saml_idp.set_user(world.a.member.email)

    page.goto(f"{live_server.url}/sign-in/sso/")
    page.locator("#id_email").fill(world.a.member.email)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    button = page.get_by_role("button", name="Sign in with Tenant A SAML")
    with page.expect_navigation():
        button.click()
    page.wait_for_url(f"{live_server.url}/")
    assert world.a.member.get_short_name() in page.locator("h1").inner_text()
    account = SocialAccount.objects.get(user=world.a.member)
    assert account.provider == connection.provider_id
    page.screenshot(path=str(artifacts_dir / "sso-saml-signed-in.png"), full_page=True)
    assert violations == []
