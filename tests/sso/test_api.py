"""/api/v1/sso-connections/ and the organization's single sign-on page: admins manage,
others read their own organizations' (another's answers 404), the secret is never returned."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from portal.audit import AuditEntry
from portal.sso.models import SsoConnection, SsoDomain
from tests.conftest import page_client, signed_in

pytestmark = pytest.mark.django_db
API = "/api/v1/sso-connections/"
SECRET = "very-secret-client-secret-value"


def body(world, tenant, **changes):
    data = {
        "organization": tenant.organization.pk,
        "name": "Acme Okta",
        "issuer": "https://acme.okta.example.com/",
        "client_id": "portal-client",
        "client_secret": SECRET,
        "domains": ["Acme.example", "@acme-labs.example"],
        "require_sso": True,
    }
    data.update(changes)
    return data


def test_admin_creates_reads_updates_and_deletes_and_the_secret_never_comes_back(world):
    client = signed_in(world.admin)
    created = client.post(API, body(world, world.a), format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert "client_secret" not in data and SECRET not in created.content.decode()
    assert data["has_secret"] is True
    assert data["issuer"] == "https://acme.okta.example.com"
    assert data["domains"] == ["acme-labs.example", "acme.example"]
    assert (data["is_enabled"], data["require_sso"], data["allow_jit"]) == (True, True, False)
    assert data["sign_in_url"].endswith(f"/sign-in/sso/{world.a.organization.slug}/")
    assert data["redirect_uri"].endswith(f"/accounts/oidc/sso-{data['id']}/login/callback/")

    stored = SsoConnection.objects.get(pk=data["id"])
    assert SECRET not in stored.client_secret_encrypted  # encrypted at rest
    assert stored.client_secret == SECRET
    audit = AuditEntry.objects.get(action="sso_connection.create")
    assert SECRET not in str(audit.after) and audit.after["has_secret"] is True

    url = f"{API}{data['id']}/"
    read = client.get(url)
    assert read.status_code == 200 and SECRET not in read.content.decode()
    changed = client.patch(url, {"domains": ["acme.example"], "allow_jit": True}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["domains"] == ["acme.example"] and changed.json()["allow_jit"] is True
    assert SsoConnection.objects.get(pk=data["id"]).client_secret == SECRET  # kept
    new_secret = client.patch(url, {"client_secret": "rotated"}, format="json")
    assert new_secret.status_code == 200 and "rotated" not in new_secret.content.decode()
    assert SsoConnection.objects.get(pk=data["id"]).client_secret == "rotated"

    assert client.delete(url).status_code == 204
    assert not SsoConnection.objects.exists() and not SsoDomain.objects.exists()
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issuer": "not a url"}, "issuer"),
        ({"issuer": "ftp://login.example.com"}, "issuer"),
        ({"domains": []}, "domains"),
        ({"domains": ["no spaces allowed.example com"]}, "domains"),
        ({"domains": "acme.example"}, "domains"),
        ({"client_secret": ""}, "client_secret"),
        ({"name": ""}, "name"),
        ({"is_enabled": "maybe"}, "is_enabled"),
        ({"extra": 1}, "extra"),
        ({"client_secret": None}, "client_secret"),
    ],
)
def test_bad_input_is_a_400_in_the_error_format_and_writes_nothing(world, changes, field):
    response = signed_in(world.admin).post(API, body(world, world.a, **changes), format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "validation_error" and field in error["fields"]
    assert not SsoConnection.objects.exists() and not SsoDomain.objects.exists()


def test_a_domain_belongs_to_one_organization(world):
    client = signed_in(world.admin)
    assert client.post(API, body(world, world.a), format="json").status_code == 201
    taken = client.post(
        API, body(world, world.b, domains=["b.example", "ACME.example"]), format="json"
    )
    assert taken.status_code == 400
    assert "acme.example" in taken.json()["fields"]["domains"][0]
    assert SsoConnection.objects.count() == 1
    twice = client.post(API, body(world, world.a, domains=["other.example"]), format="json")
    assert twice.status_code == 400 and "organization" in twice.json()["fields"]


def test_others_read_only_their_own_and_never_write(world):
    admin = signed_in(world.admin)
    own = admin.post(API, body(world, world.a), format="json").json()
    other = admin.post(
        API,
        body(world, world.b, domains=["b.example"], issuer="https://b.example/"),
        format="json",
    ).json()
    for person in (world.a.poc, world.a.member, world.manager):
        client = signed_in(person)
        listed = client.get(API).json()
        assert [row["id"] for row in listed["results"]] == [own["id"]]
        assert client.get(f"{API}{own['id']}/").status_code == 200
        missing = client.get(f"{API}{other['id']}/")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert client.patch(f"{API}{other['id']}/", {"name": "x"}, format="json").status_code == 404
        refused = client.patch(f"{API}{own['id']}/", {"name": "x"}, format="json")
        assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
        assert client.delete(f"{API}{own['id']}/").status_code == 403
        created = client.post(API, body(world, world.a, domains=["c.example"]), format="json")
        assert created.status_code == 403
    assert SsoConnection.objects.get(pk=own["id"]).name == "Acme Okta"


def test_the_organization_page_lets_admins_connect_and_others_not(world):
    url = f"/organizations/{world.a.organization.pk}/sso/"
    admin = page_client(world.admin)
    assert admin.get(url).status_code == 200
    response = admin.post(
        url,
        {
            "name": "Acme Entra",
            "issuer": "https://login.acme.example/v2.0",
            "client_id": "cid",
            "client_secret": SECRET,
            "domains": "a.test\nacme.example",
            "is_enabled": "on",
            "allow_jit": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    connection = SsoConnection.objects.get(organization=world.a.organization)
    assert connection.allow_jit and not connection.require_sso
    page = admin.get(url).content.decode()
    assert SECRET not in page and f"/accounts/oidc/sso-{connection.pk}/login/callback/" in page
    assert f"/sign-in/sso/{world.a.organization.slug}/" in page
    # saving again without a secret keeps it
    response = admin.post(
        url,
        {
            "name": "Acme Entra",
            "issuer": "https://login.acme.example/v2.0",
            "client_id": "cid",
            "client_secret": "",
            "domains": "a.test",
            "is_enabled": "on",
        },
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.client_secret == SECRET and not connection.allow_jit
    for person in (world.a.poc, world.manager):
        assert page_client(person).get(url).status_code == 403
        assert page_client(person).post(f"{url}delete/").status_code == 403
    assert page_client(world.b.poc).get(url).status_code == 404
    assert admin.post(f"{url}delete/").status_code == 302
    assert not SsoConnection.objects.exists()


def test_pages_and_api_issue_constant_queries(world):
    from portal.sso.services import sso_connection_create
    from tests.factories import OrganizationFactory

    admin = signed_in(world.admin)

    def grow(count: int) -> SsoConnection:
        made = []
        for n in range(count):
            organization = OrganizationFactory()
            made.append(
                sso_connection_create(
                    acting_user=world.admin,
                    organization=organization,
                    name=f"IdP {n}",
                    issuer=f"https://idp{n}.example.com",
                    client_id=f"c{n}",
                    client_secret="s",
                    domains=[f"d{n}.example", f"e{n}.example"],
                )
            )
        return made[0]

    def counts(first: SsoConnection) -> list[int]:
        measured = []
        for client, path in (
            (admin, API),
            (admin, f"{API}{first.pk}/"),
            (page_client(world.admin), f"/organizations/{first.organization_id}/sso/"),
        ):
            client.get(path)  # the session's first request reads what later ones keep
            with CaptureQueriesContext(db) as queries:
                assert client.get(path).status_code == 200, path
            measured.append(len(queries))
        return measured

    few = counts(grow(3))
    SsoConnection.objects.all().delete()
    many = counts(grow(30))
    assert few == many


def test_the_list_filters_by_organization(world):
    admin = signed_in(world.admin)
    own = admin.post(API, body(world, world.a), format="json").json()
    admin.post(API, body(world, world.b, domains=["b.example"]), format="json")
    listed = admin.get(API, {"organization": world.a.organization.pk}).json()
    assert [row["id"] for row in listed["results"]] == [own["id"]]
    assert admin.get(API, {"organization": "1.5"}).status_code == 400
