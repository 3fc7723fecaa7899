"""Every way into a session goes through allauth's login: its rate limits and, for provider
admins, its TOTP step (audit, issue 11 §2.1: `/django-admin/login/` signed an admin in with the
password alone and never rate limited it).

The URLconf is walked for every login-like route, so a login form added later (DRF's
`api-auth/login/`, another admin site, ...) is checked too.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import page_client
from tests.factories import PASSWORD, AdminFactory, ManagerFactory
from tests.portal.test_accounts import current_code

pytestmark = pytest.mark.django_db

LOGIN_LIKE = re.compile(r"log-?in|sign-?in|authenticate", re.IGNORECASE)
TOO_MANY = "Too many failed login attempts"
# What a session of an admin opens: a page, the audit trail, the API, Django's admin.
ADMIN_ONLY = ("/catalog/", "/audit/", "/api/v1/audit-entries/", "/django-admin/")


# Login-like routes with arguments, and a value to reach each by: single sign-on's direct link
# allauth's OpenID Connect start and callback, and its SAML start (portal.sso; tests/sso checks
# the flows).
ARGUMENTS = {
    "sso_start": {"slug": "tenant-a"},
    "openid_connect_login": {"provider_id": "sso-1"},
    "openid_connect_callback": {"provider_id": "sso-1"},
    "saml_login": {"organization_slug": "tenant-a"},
}


def walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{entry.namespace}:" if entry.namespace else ""
            for route, name in walk(entry.url_patterns, prefix + str(entry.pattern)):
                yield route, (namespace + name) if name else None
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


def login_like_urls() -> list[str]:
    """Every route whose path or name looks like a way to sign in, as a URL."""
    urls = set()
    for route, name in walk(get_resolver().url_patterns):
        if not (LOGIN_LIKE.search(route) or (name and LOGIN_LIKE.search(name))):
            continue
        if not name and route.startswith("accounts/social/"):
            continue  # allauth's old paths: permanent redirects to accounts/3rdparty/, checked
        assert name, f"{route}: a login-like route without a name cannot be checked"
        # a route with arguments fails here unless ARGUMENTS names a value for them
        urls.add(reverse(name, kwargs=ARGUMENTS.get(name)))
    return sorted(urls)


def test_the_walk_finds_every_known_login_route():
    urls = login_like_urls()
    for known in ("/accounts/login/", "/django-admin/login/", "/accounts/2fa/authenticate/"):
        assert known in urls
    if "rest_framework" in {name for _route, name in walk(get_resolver().url_patterns) if name}:
        pytest.fail("DRF's api-auth is mounted: check its login here")


def credentials(email: str, password: str) -> dict[str, str]:
    """The field names of every login form there is: allauth's and Django's."""
    return {"login": email, "username": email, "email": email, "password": password}


def signed_in_as_admin(client: Client) -> bool:
    if "_auth_user_id" in client.session:
        return True
    return any(client.get(url).status_code == 200 for url in ADMIN_ONLY)


@pytest.mark.parametrize("url", login_like_urls())
def test_no_login_route_signs_an_admin_in_without_totp(url):
    admin = AdminFactory(email="ada@provider.test")
    client = Client()
    client.get(url, REMOTE_ADDR="198.51.100.30")
    response = client.post(url, credentials(admin.email, PASSWORD), REMOTE_ADDR="198.51.100.30")
    assert response.status_code in (200, 302, 403, 404, 405, 429), response.status_code
    assert not signed_in_as_admin(client), f"{url} signed an admin in with the password alone"


@pytest.mark.parametrize("url", login_like_urls())
@pytest.mark.parametrize("who", ["admin without TOTP yet", "manager"])
def test_every_login_route_is_rate_limited(url, who):
    """40 wrong passwords, then the right one: not signed in, on any route (the audit's case)."""
    user = (
        AdminFactory(email="new.admin@provider.test", totp=False)
        if who.startswith("admin")
        else ManagerFactory(email="manager@provider.test")
    )
    client = Client()
    for _ in range(40):
        client.post(url, credentials(user.email, "wrong password"), REMOTE_ADDR="198.51.100.40")
    response = client.post(url, credentials(user.email, PASSWORD), REMOTE_ADDR="198.51.100.40")
    assert "_auth_user_id" not in client.session, f"{url} let the right password in after 40"
    if url == reverse("account_login"):  # the form's message, or allauth's 429 page when hammered
        assert response.status_code == 429 or TOO_MANY in response.content.decode()


def test_allauth_login_still_rate_limits_and_asks_admins_for_totp():
    admin = AdminFactory(email="ada@provider.test")
    client = Client()
    for _ in range(5):
        response = client.post(reverse("account_login"), credentials(admin.email, "nope"))
        assert TOO_MANY not in response.content.decode()
    response = client.post(reverse("account_login"), credentials(admin.email, PASSWORD))
    assert TOO_MANY in response.content.decode() and "_auth_user_id" not in client.session


@pytest.mark.parametrize("method", ["get", "post"])
def test_django_admin_login_sends_to_allauth_keeping_next(client, method):
    admin = AdminFactory(email="ada@provider.test")
    target = "/django-admin/accounts/user/"
    data = credentials(admin.email, PASSWORD) if method == "post" else None
    response = getattr(client, method)(f"/django-admin/login/?next={target}", data)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("account_login")
    assert parse_qs(location.query) == {"next": [target]}
    assert "_auth_user_id" not in client.session
    # A foreign `next` is not carried along; the admin index is.
    response = client.get("/django-admin/login/?next=https://evil.example/")
    assert parse_qs(urlsplit(response["Location"]).query) == {"next": ["/django-admin/"]}
    # Django's admin sends anonymous visitors to its login page, which sends them on.
    response = client.get("/django-admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))


def test_admin_reaches_django_admin_through_allauth_with_totp(client):
    admin = AdminFactory(email="ada@provider.test")
    response = client.post(
        f"{reverse('account_login')}?next=/django-admin/", credentials(admin.email, PASSWORD)
    )
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(admin.totp_secret)})
    assert response.status_code == 302 and response["Location"] == "/django-admin/"
    assert client.get("/django-admin/").status_code == 200
    # Signed in already: the admin's login URL goes on to `next`.
    response = client.get("/django-admin/login/?next=/django-admin/accounts/user/")
    assert response["Location"] == "/django-admin/accounts/user/"


def test_a_signed_in_non_admin_is_refused_not_looped():
    client = page_client(ManagerFactory())
    assert client.get("/django-admin/login/?next=/django-admin/").status_code == 403


def test_an_admin_session_that_skipped_totp_is_signed_out(client):
    """Defence in depth: a session opened by Django's `login()` alone (any path but allauth's)
    is signed out at its first request, for pages and the API alike."""
    admin = AdminFactory(email="ada@provider.test")
    client.force_login(admin)  # what the old /django-admin/login/ did
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    api = Client()
    api.force_login(admin)
    response = api.get("/api/v1/audit-entries/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    for url in ("/accounts/2fa/", "/django-admin/"):
        fresh = Client()
        fresh.force_login(admin)
        assert fresh.get(url).status_code == 302 and "_auth_user_id" not in fresh.session
    # A session that passed the TOTP step keeps working.
    assert page_client(admin).get("/audit/").status_code == 200


def test_an_admin_who_sets_totp_up_in_this_session_keeps_it(client):
    """The first sign-in of an admin without TOTP has no TOTP step; setting TOTP up in that
    session is what the middleware asks for, so the session is not signed out afterwards."""
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    AdminFactory(email="new.admin@provider.test", totp=False)
    client.post(reverse("account_login"), credentials("new.admin@provider.test", PASSWORD))
    assert client.get("/audit/")["Location"] == reverse("mfa_activate_totp")
    response = client.get(reverse("mfa_activate_totp"))
    client.post(response["Location"], {"password": PASSWORD})  # allauth's reauthentication
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": current_code(secret)})
    assert response.status_code == 302, response.content[:500]
    assert client.get("/audit/").status_code == 200
