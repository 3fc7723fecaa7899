"""Signing in through an organization's SAML 2.0 identity provider, a real one in a second
process (tests/sso/saml_idp.py): the AuthnRequest over HTTP-Redirect, the signed response over
HTTP-POST to the portal's ACS, verified by python3-saml against the configured certificate.
Each refusal is a clear page, and nobody is signed in or created."""

from __future__ import annotations

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from portal.accounts.models import User
from portal.sso import services
from portal.tenancy.models import Membership
from tests.factories import MembershipFactory, UserFactory
from tests.sso.provider import saml_sign_in
from tests.sso.test_sign_in import refused, signed_in_user

pytestmark = pytest.mark.django_db
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def connect_saml(world, tenant, idp, **flags):
    fields = {
        "name": f"{tenant.organization.name} SAML",
        "protocol": "saml",
        "saml_entity_id": idp.entity_id,
        "saml_sso_url": idp.sso_url,
        "saml_certificate": idp.certificate(),
        "domains": [tenant.poc.email.split("@")[1]],
    }
    fields.update(flags)
    return services.sso_connection_create(
        acting_user=world.admin, organization=tenant.organization, **fields
    )


def test_first_sign_in_links_the_provisioned_person_and_the_next_one_too(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user(world.a.member.email)
    client = Client()
    response = saml_sign_in(client, connection, saml_idp)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == "/"
    assert signed_in_user(client) == world.a.member
    account = SocialAccount.objects.get(user=world.a.member)
    assert (account.provider, account.uid) == (connection.provider_id, world.a.member.email)

    again = Client()
    assert saml_sign_in(again, connection, saml_idp).status_code == 302
    assert signed_in_user(again) == world.a.member
    assert SocialAccount.objects.count() == 1


@pytest.mark.parametrize("sign", ["assertion", "response"])
def test_a_signature_on_the_assertion_or_on_the_whole_response_is_accepted(world, saml_idp, sign):
    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user(world.a.poc.email)
    saml_idp.misbehave(sign=sign)
    client = Client()
    assert saml_sign_in(client, connection, saml_idp).status_code == 302
    assert signed_in_user(client) == world.a.poc


@pytest.mark.parametrize(
    ("behaviour", "code", "words"),
    [
        ({"sign": "impostor"}, "bad_signature", "not signed with the certificate"),
        ({"sign": "none"}, "unsigned", "was not signed"),
        ({"audience": "https://another-app.example/saml"}, "wrong_audience", "another application"),
        ({"expired": True}, "expired", "expired"),
    ],
)
def test_a_response_that_does_not_verify_is_refused(world, saml_idp, behaviour, code, words):
    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user(world.a.poc.email)
    saml_idp.misbehave(**behaviour)
    client = Client()
    page = refused(saml_sign_in(client, connection, saml_idp), code)
    assert words in page
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()


def test_a_certificate_of_another_idp_on_the_connection_refuses_the_real_one(world, saml_idp):
    connection = connect_saml(
        world, world.a, saml_idp, saml_certificate=saml_idp.certificate("impostor")
    )
    saml_idp.set_user(world.a.poc.email)
    refused(saml_sign_in(Client(), connection, saml_idp), "bad_signature")


def test_a_foreign_domain_is_refused_even_when_signed(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp)
    outsider = UserFactory(email="someone@elsewhere.test")
    MembershipFactory(organization=world.a.organization, user=outsider, role="member")
    saml_idp.set_user(outsider.email)
    client = Client()
    refused(saml_sign_in(client, connection, saml_idp), "foreign_domain")
    assert signed_in_user(client) is None


def test_b_person_through_a_idp_is_refused(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp)
    b_person = UserFactory(email="b.person@a.test")
    MembershipFactory(organization=world.b.organization, user=b_person, role="member")
    saml_idp.set_user(b_person.email)
    refused(saml_sign_in(Client(), connection, saml_idp), "other_organization")
    refused_b = connect_saml(world, world.b, saml_idp)
    saml_idp.set_user(world.a.poc.email)
    refused(saml_sign_in(Client(), refused_b, saml_idp), "foreign_domain")
    assert not SocialAccount.objects.exists()


def test_staff_never_sign_in_through_a_customer_idp(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp, domains=["a.test", "provider.test"])
    saml_idp.set_user(world.admin.email)
    refused(saml_sign_in(Client(), connection, saml_idp), "staff")


def test_disabled_connection_is_refused(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user(world.a.poc.email)
    services.sso_connection_update(acting_user=world.admin, connection=connection, is_enabled=False)
    client = Client()
    refused(saml_sign_in(client, connection, saml_idp), "disabled")
    assert signed_in_user(client) is None


def test_a_nameid_that_is_no_address_and_no_email_attribute_is_refused(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user("u-8f2c1a", name_id_format=PERSISTENT)
    refused(saml_sign_in(Client(), connection, saml_idp), "no_email")


def test_the_email_attribute_and_an_opaque_nameid(world, saml_idp):
    """An IdP that names people by a persistent ID gives the address in an attribute: the
    common names are read by default, or the one attribute the connection names."""
    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user("u-8f2c1a", name_id_format=PERSISTENT, mail=world.a.poc.email)
    client = Client()
    assert saml_sign_in(client, connection, saml_idp).status_code == 302
    assert signed_in_user(client) == world.a.poc
    assert SocialAccount.objects.get().uid == "u-8f2c1a"

    services.sso_connection_update(
        acting_user=world.admin, connection=connection, saml_email_attribute="workEmail"
    )
    saml_idp.set_user("u-1111", name_id_format=PERSISTENT, mail=world.a.member.email)
    refused(saml_sign_in(Client(), connection, saml_idp), "no_email")
    saml_idp.set_user(
        "u-1111", name_id_format=PERSISTENT, mail="x@a.test", workEmail=world.a.member.email
    )
    client = Client()
    assert saml_sign_in(client, connection, saml_idp).status_code == 302
    assert signed_in_user(client) == world.a.member


def test_without_jit_nobody_is_created(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp, allow_jit=False)
    saml_idp.set_user("newcomer@a.test")
    client = Client()
    refused(saml_sign_in(client, connection, saml_idp), "no_account")
    assert not User.objects.filter(email="newcomer@a.test").exists()


def test_with_jit_a_member_is_created_never_a_named_contact(world, saml_idp):
    from engagements.contacts.models import Contact

    connection = connect_saml(world, world.a, saml_idp, allow_jit=True)
    contacts_before = Contact.objects.count()
    saml_idp.set_user("Newcomer@A.test", displayName="Nina New")
    client = Client()
    response = saml_sign_in(client, connection, saml_idp)
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="newcomer@a.test")
    assert signed_in_user(client) == user
    assert user.name == "Nina New" and user.kind == User.Kind.CUSTOMER
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organization, membership.role) == (
        world.a.organization,
        Membership.Role.MEMBER,
    )
    assert Contact.objects.count() == contacts_before


def test_jit_never_creates_in_another_organizations_domain(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp, allow_jit=True)
    saml_idp.set_user("stranger@b.test")
    refused(saml_sign_in(Client(), connection, saml_idp), "foreign_domain")
    assert not User.objects.filter(email="stranger@b.test").exists()


def test_a_response_posted_twice_signs_nobody_in_the_second_time(world, saml_idp):
    """The response answers one AuthnRequest: replayed (to another browser, or again), its
    InResponseTo matches no sign-in that browser started."""
    import re
    from html import unescape

    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user(world.a.poc.email)
    client = Client()
    start = client.post(
        f"/accounts/saml/{connection.organization.slug}/login/", {"process": "login"}
    )
    page = requests.get(start["Location"], timeout=10).text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
    fields = {k: unescape(v) for k, v in fields.items()}
    acs = f"/accounts/saml/{connection.organization.slug}/acs/"
    thief = Client(raise_request_exception=False)
    stolen = thief.get(thief.post(acs, fields)["Location"])
    assert stolen.status_code in (400, 403), stolen.status_code
    assert signed_in_user(thief) is None


def test_the_lookup_sends_a_saml_organizations_people_to_their_idp(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp)
    page = Client().get("/sign-in/sso/", {"email": "someone@A.test"})
    text = page.content.decode()
    assert f'action="/accounts/saml/{connection.organization.slug}/login/"' in text
    assert f"Sign in with {connection.name}" in text
    assert "127.0.0.1:" in page["Content-Security-Policy"].split("form-action")[1].split(";")[0]
    direct = Client().get(f"/sign-in/sso/{world.a.organization.slug}/").content.decode()
    assert f'action="/accounts/saml/{connection.organization.slug}/login/"' in direct


def test_the_portal_publishes_its_metadata(world, saml_idp, oidc_provider):
    from django.conf import settings

    connection = connect_saml(world, world.a, saml_idp)
    path = f"/accounts/saml/{world.a.organization.slug}/"
    response = Client().get(f"{path}metadata/")
    assert response.status_code == 200
    text = response.content.decode()
    assert f'entityID="{settings.SITE_URL}{path}metadata/"' in text
    assert f'Location="http://testserver{path}acs/"' in text
    assert connection.provider_id not in text
    assert Client().get("/accounts/saml/no-such-organization/metadata/").status_code == 404
    # an organization whose connection speaks OpenID Connect has no SAML endpoints
    from tests.sso.test_sign_in import connect

    connect(world, world.b, oidc_provider)
    assert Client().get(f"/accounts/saml/{world.b.organization.slug}/metadata/").status_code == 404


def test_refusals_read_in_korean(world, saml_idp):
    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user(world.a.poc.email)
    saml_idp.misbehave(sign="impostor")
    page = refused(
        saml_sign_in(Client(HTTP_ACCEPT_LANGUAGE="ko"), connection, saml_idp), "bad_signature"
    )
    assert "인증서" in page


API = "/api/v1/sso-connections/"


def saml_body(world, tenant, idp, **changes):
    data = {
        "organization": tenant.organization.pk,
        "name": "Acme ADFS",
        "protocol": "saml",
        "saml_entity_id": idp.entity_id,
        "saml_sso_url": idp.sso_url,
        "saml_certificate": idp.certificate(),
        "domains": ["acme.example"],
    }
    data.update(changes)
    return data


def test_api_creates_and_updates_a_saml_connection(world, saml_idp):
    from django.conf import settings

    from portal.sso.models import SsoConnection
    from tests.conftest import signed_in

    client = signed_in(world.admin)
    created = client.post(API, saml_body(world, world.a, saml_idp), format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    slug = world.a.organization.slug
    assert data["protocol"] == "saml" and data["saml_entity_id"] == saml_idp.entity_id
    assert data["saml_certificate"].startswith("-----BEGIN CERTIFICATE-----\n")
    assert len(data["saml_certificate_sha256"].split(":")) == 32
    assert data["saml_sp"] == {
        "entity_id": f"{settings.SITE_URL}/accounts/saml/{slug}/metadata/",
        "acs_url": f"{settings.SITE_URL}/accounts/saml/{slug}/acs/",
        "metadata_url": f"{settings.SITE_URL}/accounts/saml/{slug}/metadata/",
    }
    assert data["redirect_uri"] == data["saml_sp"]["acs_url"]
    assert data["has_secret"] is False
    url = f"{API}{data['id']}/"
    # the certificate's body alone (as IdPs show it) is taken too
    body = "".join(saml_idp.certificate("impostor").strip().splitlines()[1:-1])
    changed = client.patch(url, {"saml_certificate": body}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["saml_certificate_sha256"] != data["saml_certificate_sha256"]
    # switching to OpenID Connect needs its issuer, client and secret
    switched = client.patch(url, {"protocol": "oidc"}, format="json")
    assert switched.status_code == 400
    assert set(switched.json()["fields"]) == {"issuer", "client_id", "client_secret"}
    assert SsoConnection.objects.get(pk=data["id"]).protocol == "saml"


def test_api_reads_the_idp_metadata_url(world, saml_idp):
    from tests.conftest import signed_in

    client = signed_in(world.admin)
    created = client.post(
        API,
        {
            "organization": world.a.organization.pk,
            "name": "From metadata",
            "protocol": "saml",
            "saml_metadata_url": f"{saml_idp.url}/metadata",
            "domains": ["a.test"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["saml_entity_id"], data["saml_sso_url"]) == (saml_idp.entity_id, saml_idp.sso_url)
    assert data["saml_certificate_sha256"] == services.certificate_fingerprint(
        saml_idp.certificate()
    )
    from portal.sso.models import SsoConnection

    connection = SsoConnection.objects.get(pk=data["id"])
    saml_idp.set_user(world.a.poc.email)
    client = Client()
    assert saml_sign_in(client, connection, saml_idp).status_code == 302
    assert signed_in_user(client) == world.a.poc


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"saml_certificate": "not a certificate"}, {"saml_certificate"}),
        (
            {"saml_certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
            {"saml_certificate"},
        ),
        ({"saml_certificate": ""}, {"saml_certificate"}),
        ({"saml_certificate": 12}, {"saml_certificate"}),
        ({"saml_sso_url": "not a url"}, {"saml_sso_url"}),
        ({"saml_sso_url": ""}, {"saml_sso_url"}),
        ({"saml_entity_id": ""}, {"saml_entity_id"}),
        ({"protocol": "ldap"}, {"protocol"}),
        ({"saml_metadata_url": "ftp://x.example/m"}, {"saml_metadata_url"}),
        ({"saml_metadata_url": "http://127.0.0.1:1/metadata"}, {"saml_metadata_url"}),
    ],
)
def test_api_bad_saml_input_is_a_400_and_writes_nothing(world, saml_idp, changes, fields):
    from portal.sso.models import SsoConnection, SsoDomain
    from tests.conftest import signed_in

    body = saml_body(world, world.a, saml_idp, **changes)
    response = signed_in(world.admin).post(API, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "validation_error" and fields <= set(error["fields"]), error
    assert not SsoConnection.objects.exists() and not SsoDomain.objects.exists()


def test_api_metadata_url_that_is_no_metadata_is_a_400(world, saml_idp):
    from tests.conftest import signed_in

    body = saml_body(world, world.a, saml_idp, saml_metadata_url=f"{saml_idp.url}/certificate")
    response = signed_in(world.admin).post(API, body, format="json")
    assert response.status_code == 400, response.content
    assert "saml_metadata_url" in response.json()["fields"]


def test_the_settings_page_shows_what_to_give_the_idp_and_saves_saml(world, saml_idp):
    from django.conf import settings

    from portal.sso.models import SsoConnection
    from tests.conftest import page_client

    url = f"/organizations/{world.a.organization.pk}/sso/"
    admin = page_client(world.admin)
    slug = world.a.organization.slug
    acs = f"{settings.SITE_URL}/accounts/saml/{slug}/acs/"
    assert acs in admin.get(url).content.decode()  # before the connection exists
    form = {
        "name": "Acme SAML",
        "protocol": "saml",
        "saml_entity_id": saml_idp.entity_id,
        "saml_sso_url": saml_idp.sso_url,
        "saml_certificate": "garbage",
        "domains": "a.test",
        "is_enabled": "on",
    }
    bad = admin.post(url, form)
    assert bad.status_code == 200 and "PEM" in bad.content.decode()
    assert not SsoConnection.objects.exists()
    form["saml_certificate"] = saml_idp.certificate()
    assert admin.post(url, form).status_code == 302
    connection = SsoConnection.objects.get()
    assert connection.is_saml
    page = admin.get(url).content.decode()
    assert acs in page and f"{settings.SITE_URL}/accounts/saml/{slug}/metadata/" in page
    assert services.certificate_fingerprint(connection.saml_certificate) in page
    assert "/accounts/oidc/" not in page


def test_saml_connections_list_in_constant_queries(world, saml_idp):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from portal.sso.models import SsoConnection
    from tests.conftest import page_client, signed_in
    from tests.factories import OrganizationFactory

    certificate = saml_idp.certificate()
    admin = signed_in(world.admin)

    def grow(count: int) -> SsoConnection:
        made = [
            services.sso_connection_create(
                acting_user=world.admin,
                organization=OrganizationFactory(),
                name=f"IdP {n}",
                protocol="saml",
                saml_entity_id=f"https://idp{n}.example.com/saml",
                saml_sso_url=f"https://idp{n}.example.com/sso",
                saml_certificate=certificate,
                domains=[f"d{n}.example"],
            )
            for n in range(count)
        ]
        return made[0]

    def counts(first: SsoConnection) -> list[int]:
        measured = []
        for client, path in (
            (admin, API),
            (page_client(world.admin), f"/organizations/{first.organization_id}/sso/"),
        ):
            client.get(path)
            with CaptureQueriesContext(db) as queries:
                assert client.get(path).status_code == 200, path
            measured.append(len(queries))
        return measured

    few = counts(grow(3))
    SsoConnection.objects.all().delete()
    assert few == counts(grow(30))


def test_an_idp_initiated_sign_in_is_refused(world, saml_idp):
    """A response that answers no request of the portal's (IdP-initiated, or unsolicited by
    anyone) signs nobody in, however well signed."""
    connection = connect_saml(world, world.a, saml_idp)
    saml_idp.set_user(world.a.poc.email)
    saml_idp.misbehave(unsolicited=True)
    client = Client()
    refused(saml_sign_in(client, connection, saml_idp), "failed")
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.exists()


@pytest.mark.parametrize("posted", ["not base64 at all!", "PHhtbD48L3htbA==", "PGJyb2tlbg=="])
def test_a_garbled_response_is_a_refusal_not_an_error(world, saml_idp, posted):
    connection = connect_saml(world, world.a, saml_idp)
    client = Client(raise_request_exception=False)
    client.post(f"/accounts/saml/{connection.organization.slug}/login/", {"process": "login"})
    acs = f"/accounts/saml/{connection.organization.slug}/acs/"
    finish = client.post(acs, {"SAMLResponse": posted})
    response = client.get(finish["Location"])
    assert response.status_code == 403, response.status_code
    assert 'data-code="failed"' in response.content.decode()
    assert signed_in_user(client) is None
