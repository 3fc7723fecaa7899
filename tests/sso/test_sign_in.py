"""Signing in through an organization's OpenID Connect provider, a real one in a second
process (tests/sso/oidc_provider.py): discovery, the authorization code, the token endpoint,
the signed ID token. Each refusal is a clear page, and nobody is signed in or created."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from portal.accounts.models import User
from portal.sso import services
from portal.tenancy.models import Membership
from tests.factories import PASSWORD, MembershipFactory, UserFactory
from tests.sso.provider import sso_sign_in

pytestmark = pytest.mark.django_db


def connect(world, tenant, provider, **flags):
    fields = {
        "name": f"{tenant.organization.name} Login",
        "issuer": provider.url,
        "client_id": f"portal-{tenant.organization.slug}",
        "client_secret": "s3cret-value",
        "domains": [tenant.poc.email.split("@")[1]],
    }
    fields.update(flags)
    return services.sso_connection_create(
        acting_user=world.admin, organization=tenant.organization, **fields
    )


def signed_in_user(client: Client):
    response = client.get("/")
    user = response.wsgi_request.user
    return user if user.is_authenticated else None


def refused(response, code: str) -> str:
    assert response.status_code == 403, response.status_code
    page = response.content.decode()
    assert f'data-code="{code}"' in page, page[:2000]
    return page


def test_first_sign_in_links_the_provisioned_person_and_the_next_one_too(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user(
        "alice-sub", email=world.a.member.email, email_verified=True, name="Alice"
    )
    client = Client()
    response = sso_sign_in(client, connection, oidc_provider, "alice-sub")

    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user(client) == world.a.member
    account = SocialAccount.objects.get(user=world.a.member)
    assert (account.provider, account.uid) == (connection.provider_id, "alice-sub")

    again = Client()
    assert sso_sign_in(again, connection, oidc_provider, "alice-sub").status_code == 302
    assert signed_in_user(again) == world.a.member
    assert SocialAccount.objects.count() == 1


def test_wrong_issuer_is_refused(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user("poc", email=world.a.poc.email, email_verified=True)
    oidc_provider.misbehave(issuer="https://impostor.example.com")
    client = Client()
    page = refused(sso_sign_in(client, connection, oidc_provider, "poc"), "wrong_issuer")
    assert "another issuer" in page
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()


def test_a_provider_naming_itself_another_issuer_is_refused(world, oidc_provider):
    """Discovery and ID token agree with each other (so allauth's own check passes) but name
    another issuer than the connection's: the portal's check refuses it."""
    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user("poc", email=world.a.poc.email, email_verified=True)
    oidc_provider.misbehave(
        issuer="https://impostor.example.com", discovery_issuer="https://impostor.example.com"
    )
    client = Client()
    refused(sso_sign_in(client, connection, oidc_provider, "poc"), "wrong_issuer")
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()


def test_issuer_reached_by_another_host_name_signs_in(world, oidc_provider):
    """The issuer is the URL the provider names itself by: reached as "localhost", its
    discovery and its tokens say http://localhost:PORT, the connection's issuer."""
    issuer = oidc_provider.url.replace("127.0.0.1", "localhost")
    connection = connect(world, world.a, oidc_provider, issuer=issuer)
    oidc_provider.set_user("poc", email=world.a.poc.email, email_verified=True)
    client = Client()
    start = client.post(f"/accounts/oidc/{connection.provider_id}/login/", {"process": "login"})
    assert start["Location"].startswith(issuer + "/oauth2/authorize?")
    consent = requests.post(
        start["Location"], data={"sub": "poc"}, allow_redirects=False, timeout=10
    )
    back = urlsplit(consent.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 302
    assert signed_in_user(client) == world.a.poc


def test_wrong_audience_is_refused(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user("poc", email=world.a.poc.email, email_verified=True)
    oidc_provider.misbehave(audience="some-other-application")
    client = Client()
    page = refused(sso_sign_in(client, connection, oidc_provider, "poc"), "wrong_audience")
    assert "another application" in page
    assert signed_in_user(client) is None


def test_unverified_email_is_refused(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user("poc", email=world.a.poc.email, email_verified=False)
    client = Client()
    refused(sso_sign_in(client, connection, oidc_provider, "poc"), "unverified_email")
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()


def test_missing_email_verified_claim_is_refused(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user("poc", email=world.a.poc.email)
    refused(sso_sign_in(Client(), connection, oidc_provider, "poc"), "unverified_email")


def test_domain_the_organization_does_not_own_is_refused(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    outsider = UserFactory(email="someone@elsewhere.test")
    MembershipFactory(organization=world.a.organization, user=outsider, role="member")
    oidc_provider.set_user("out", email=outsider.email, email_verified=True)
    client = Client()
    refused(sso_sign_in(client, connection, oidc_provider, "out"), "foreign_domain")
    assert signed_in_user(client) is None


def test_disabled_connection_is_refused(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user("poc", email=world.a.poc.email, email_verified=True)
    client = Client()
    start = client.post(f"/accounts/oidc/{connection.provider_id}/login/", {"process": "login"})
    services.sso_connection_update(acting_user=world.admin, connection=connection, is_enabled=False)
    consent = requests.post(
        start["Location"], data={"sub": "poc"}, allow_redirects=False, timeout=10
    )
    back = urlsplit(consent.headers["Location"])
    refused(client.get(f"{back.path}?{back.query}"), "disabled")
    assert signed_in_user(client) is None
    # and the start page offers no button
    page = Client().get(f"/sign-in/sso/{world.a.organization.slug}/").content.decode()
    assert f"/accounts/oidc/{connection.provider_id}/login/" not in page
    assert "switched off" in page


def test_a_person_of_another_organization_is_refused(world, oidc_provider):
    """Tenant A's provider vouches for an address of A's domain that belongs to a person of
    tenant B: A's provider never signs anyone into B's account."""
    connection = connect(world, world.a, oidc_provider)
    b_person = UserFactory(email="b.person@a.test")
    MembershipFactory(organization=world.b.organization, user=b_person, role="member")
    oidc_provider.set_user("bp", email=b_person.email, email_verified=True)
    client = Client()
    refused(sso_sign_in(client, connection, oidc_provider, "bp"), "other_organization")
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()


def test_b_domain_through_a_provider_is_refused(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    connect(world, world.b, oidc_provider)
    oidc_provider.set_user("bpoc", email=world.b.poc.email, email_verified=True)
    refused(sso_sign_in(Client(), connection, oidc_provider, "bpoc"), "foreign_domain")


def test_staff_never_sign_in_through_a_customer_provider(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider, domains=["a.test", "provider.test"])
    oidc_provider.set_user("adm", email=world.admin.email, email_verified=True)
    refused(sso_sign_in(Client(), connection, oidc_provider, "adm"), "staff")


def test_without_jit_nobody_is_created(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider, allow_jit=False)
    oidc_provider.set_user("new", email="newcomer@a.test", email_verified=True, name="Nina New")
    client = Client()
    refused(sso_sign_in(client, connection, oidc_provider, "new"), "no_account")
    assert not User.objects.filter(email="newcomer@a.test").exists()
    assert signed_in_user(client) is None


def test_with_jit_a_member_is_created_never_a_named_contact(world, oidc_provider):
    from engagements.contacts.models import Contact

    connection = connect(world, world.a, oidc_provider, allow_jit=True)
    contacts_before = Contact.objects.count()
    oidc_provider.set_user("new", email="Newcomer@A.test", email_verified=True, name="Nina New")
    client = Client()
    response = sso_sign_in(client, connection, oidc_provider, "new")
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="newcomer@a.test")
    assert signed_in_user(client) == user
    assert user.name == "Nina New" and user.kind == User.Kind.CUSTOMER
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert membership.organization == world.a.organization
    assert membership.role == Membership.Role.MEMBER
    assert Contact.objects.count() == contacts_before
    assert not Contact.objects.filter(user=user).exists()


def test_jit_never_creates_in_another_organizations_domain(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider, allow_jit=True)
    oidc_provider.set_user("x", email="stranger@b.test", email_verified=True)
    refused(sso_sign_in(Client(), connection, oidc_provider, "x"), "foreign_domain")
    assert not User.objects.filter(email="stranger@b.test").exists()


def test_sso_required_refuses_password_sign_in_and_points_to_the_button(world, oidc_provider):
    connect(world, world.a, oidc_provider, require_sso=True)
    client = Client()
    response = client.post("/accounts/login/", {"login": world.a.poc.email, "password": PASSWORD})
    assert response.status_code == 200
    page = response.content.decode().replace("&quot;", '"')
    assert f'"Sign in with {world.a.organization.name} Login"' in page
    assert signed_in_user(client) is None
    # tenant B's people still sign in with their password
    other = Client()
    response = other.post("/accounts/login/", {"login": world.b.poc.email, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user(other) == world.b.poc


def test_sso_required_but_disabled_leaves_passwords_working(world, oidc_provider):
    connect(world, world.a, oidc_provider, require_sso=True, is_enabled=False)
    client = Client()
    response = client.post("/accounts/login/", {"login": world.a.poc.email, "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user(client) == world.a.poc


def test_staff_keep_password_and_totp_when_sso_is_required(world, oidc_provider):
    connect(world, world.a, oidc_provider, require_sso=True, domains=["a.test", "provider.test"])
    client = Client()
    response = client.post("/accounts/login/", {"login": world.admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    manager = Client()
    response = manager.post(
        "/accounts/login/", {"login": world.manager.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert signed_in_user(manager) == world.manager


def test_lookup_by_domain_offers_the_organizations_button(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    page = Client().get("/sign-in/sso/", {"email": "someone@A.test"}).content.decode()
    assert f'action="/accounts/oidc/{connection.provider_id}/login/"' in page
    assert f"Sign in with {connection.name}" in page
    page = Client().get("/sign-in/sso/", {"email": "someone@nowhere.test"}).content.decode()
    assert "/accounts/oidc/" not in page
    assert "No single sign-on is set up for this address" in page


def test_refusals_read_in_korean(world, oidc_provider):
    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user("poc", email=world.a.poc.email, email_verified=False)
    client = Client(HTTP_ACCEPT_LANGUAGE="ko")
    page = refused(sso_sign_in(client, connection, oidc_provider, "poc"), "unverified_email")
    assert "이메일" in page


def test_connecting_a_provider_account_to_a_signed_in_person_is_refused(world, oidc_provider):
    """allauth's "connect" would attach the provider's account to whoever is signed in: a
    tenant B person must not collect tenant A's identity, nor anyone skip the address rule."""
    from tests.conftest import page_client

    connection = connect(world, world.a, oidc_provider)
    oidc_provider.set_user("poc", email=world.a.poc.email, email_verified=True)
    client = page_client(world.b.poc)
    refused(sso_sign_in(client, connection, oidc_provider, "poc", process="connect"), "failed")
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize("where", ["closed port", "no discovery there"])
def test_an_unreachable_provider_is_a_clear_refusal_not_an_error(world, oidc_provider, where):
    from tests.sso.provider import _free_port

    issuer = (
        f"http://127.0.0.1:{_free_port()}"
        if where == "closed port"
        else f"{oidc_provider.url}/no-such-realm"
    )
    connection = connect(world, world.a, oidc_provider, issuer=issuer)
    client = Client(raise_request_exception=False)
    response = client.post(f"/accounts/oidc/{connection.provider_id}/login/", {"process": "login"})
    refused(response, "failed")
    assert signed_in_user(client) is None


def test_the_sign_in_page_lists_no_organizations_provider(world, oidc_provider):
    """allauth would list every provider on the sign-in page: every customer's name. The page
    offers the single sign-on step instead; the provider comes from the address's domain."""
    connect(world, world.a, oidc_provider)
    connect(world, world.b, oidc_provider)
    for client in (Client(), page_client_of(world.a.poc)):
        for url in ("/accounts/login/", "/accounts/3rdparty/"):
            page = client.get(url).content.decode()
            assert "Tenant a Corporation Login" not in page, url
            assert "Tenant b Corporation Login" not in page, url
            assert "/accounts/oidc/" not in page, url
    assert 'action="/sign-in/sso/"' in Client().get("/accounts/login/").content.decode()


def page_client_of(user):
    from tests.conftest import page_client

    return page_client(user)
