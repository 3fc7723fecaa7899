"""The API framework: Bearer tokens, scopes, the error format, strict input, paging, throttling."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from portal.accounts.models import ApiToken, User
from portal.accounts.services import api_token_create, api_token_revoke
from portal.audit import AuditEntry
from portal.notifications import deliver_outbox
from portal.tenancy.models import Membership, Organization
from tests.conftest import signed_in
from tests.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# --- Tokens -------------------------------------------------------------------------------


def test_token_is_stored_hashed_and_authenticates(world):
    token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    assert plain.startswith("smp_") and token.key_hash not in plain
    assert plain.split("_", 2)[2] not in ApiToken.objects.values_list("key_hash", flat=True)
    response = bearer(plain).get("/api/v1/organizations/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [world.a.organization.pk]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_wrong_secret_expired_and_revoked_tokens_are_refused(world):
    token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    key_id = token.key_id
    body = assert_error(
        bearer(f"smp_{key_id}_wrong").get("/api/v1/users/"), 401, "authentication_failed"
    )
    assert "invalid" in body["detail"]
    assert bearer("garbage").get("/api/v1/users/").status_code == 401
    expired, expired_plain = api_token_create(
        user=world.a.poc,
        name="old",
        scopes=["read"],
        expires_at=timezone.now() + timedelta(seconds=1),
    )
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(bearer(expired_plain).get("/api/v1/users/"), 401, "authentication_failed")
    api_token_revoke(token=token, acting_user=world.a.poc)
    response = bearer(plain).get("/api/v1/users/")
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_of_a_deactivated_user_is_refused(world):
    _token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    User.objects.filter(pk=world.a.poc.pk).update(is_active=False)
    assert_error(bearer(plain).get("/api/v1/users/"), 401, "authentication_failed")


def test_read_scope_cannot_write_and_write_scope_can(world):
    _token, read_only = api_token_create(user=world.admin, name="r", scopes=["read"])
    body = assert_error(
        bearer(read_only).post("/api/v1/organizations/", {"name": "Denied"}, format="json"),
        403,
        "permission_denied",
    )
    assert "scope" in body["detail"]
    assert not Organization.objects.filter(name="Denied").exists()
    _token, writer = api_token_create(user=world.admin, name="w", scopes=["read", "write"])
    response = bearer(writer).post("/api/v1/organizations/", {"name": "Allowed Inc"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "allowed-inc"


def test_write_only_token_cannot_read(world):
    _token, writer = api_token_create(user=world.admin, name="w", scopes=["write"])
    assert_error(bearer(writer).get("/api/v1/organizations/"), 403, "permission_denied")


def test_token_invalid_input_is_refused():
    from portal.errors import InvalidInput

    user = User.objects.create_user("x@example.test", "pw")
    with pytest.raises(InvalidInput) as excinfo:
        api_token_create(user=user, name="", scopes=["admin"])
    assert set(excinfo.value.fields) == {"name", "scopes"}
    assert not ApiToken.objects.exists()


def test_create_api_token_command_prints_a_working_token(world, capsys):
    call_command(
        "create_api_token", world.a.poc.email, "--scopes", "read", "write", "--expires-days", "30"
    )
    plain = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(user=world.a.poc)
    assert token.scopes == ["read", "write"]
    assert token.expires_at > timezone.now() + timedelta(days=29)
    assert bearer(plain).get("/api/v1/users/").status_code == 200


# --- The error format ----------------------------------------------------------------------


def test_errors_share_one_format(world):
    response = APIClient().get("/api/v1/users/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    admin = signed_in(world.admin)
    assert_error(admin.get("/api/v1/organizations/987654/"), 404, "not_found")
    assert_error(admin.get("/api/v1/no-such-thing/"), 404, "not_found")
    assert_error(
        admin.delete(f"/api/v1/organizations/{world.a.organization.pk}/"), 405, "method_not_allowed"
    )
    assert_error(
        admin.post("/api/v1/organizations/", "name=x", content_type="text/plain"),
        415,
        "unsupported_media_type",
    )
    assert_error(
        admin.post("/api/v1/organizations/", "{not json", content_type="application/json"),
        400,
        "parse_error",
    )
    customer = signed_in(world.a.poc)
    assert_error(
        customer.post("/api/v1/organizations/", {"name": "Mine"}, format="json"),
        403,
        "permission_denied",
    )


def test_validation_errors_name_the_fields(world):
    admin = signed_in(world.admin)
    body = assert_error(
        admin.post("/api/v1/organizations/", {"name": ""}, format="json"), 400, "validation_error"
    )
    assert "name" in body["fields"]
    body = assert_error(
        admin.post("/api/v1/organizations/", {"name": "X", "colour": "red"}, format="json"),
        400,
        "validation_error",
    )
    assert body["fields"] == {"colour": ["Unknown field."]}
    body = assert_error(
        admin.post("/api/v1/organizations/", [1, 2], format="json"), 400, "validation_error"
    )
    body = assert_error(
        admin.post(
            "/api/v1/users/",
            {"email": "new@x.test", "kind": "customer", "organization": "abc"},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "organization" in body["fields"]
    assert not User.objects.filter(email="new@x.test").exists()


def test_oversized_body_is_refused_before_parsing(world, settings):
    settings.API_MAX_BODY_BYTES = 1000
    admin = signed_in(world.admin)
    response = admin.post("/api/v1/organizations/", {"name": "x" * 2000}, format="json")
    assert_error(response, 413, "request_too_large")
    assert not Organization.objects.filter(name__startswith="xxx").exists()


def test_unexpected_errors_answer_500_in_the_format(world, monkeypatch):
    from portal.tenancy.api import views

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.OrganizationViewSet, "get_queryset", explode)
    client = signed_in(world.admin)
    client.raise_request_exception = False
    body = assert_error(client.get("/api/v1/organizations/"), 500, "server_error")
    assert "boom" not in body["detail"]


def test_throttling_answers_429_in_the_format(world, settings):
    from rest_framework.throttling import UserRateThrottle

    original = UserRateThrottle.THROTTLE_RATES
    UserRateThrottle.THROTTLE_RATES = {**original, "user": "3/min"}
    try:
        client = signed_in(world.a.poc)
        statuses = [client.get("/api/v1/users/").status_code for _ in range(4)]
        assert statuses[:3] == [200, 200, 200]
        response = client.get("/api/v1/users/")
        assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0
    finally:
        UserRateThrottle.THROTTLE_RATES = original


def test_an_unreachable_cache_does_not_take_the_api_down(world, settings, caplog):
    """Throttling keeps its history in the cache (Redis): while Redis restarts the API still
    answers, unthrottled, instead of 500s (tests/faults restarts a real Redis for the worker)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    client = signed_in(world.a.poc)
    response = client.get("/api/v1/users/")
    assert response.status_code == 200, response.content
    assert "the cache is unreachable" in caplog.text


# --- Paging and query counts -----------------------------------------------------------------


def test_page_size_is_capped_and_cursor_pages_through(world):
    for n in range(5):
        OrganizationFactory(name=f"Paged {n}")
    client = signed_in(world.admin)
    first = client.get("/api/v1/organizations/", {"page_size": 3}).json()
    assert len(first["results"]) == 3 and first["next"]
    second = client.get(first["next"]).json()
    seen = {row["id"] for row in first["results"]} | {row["id"] for row in second["results"]}
    assert len(seen) == 6
    from portal.api.pagination import PortalCursorPagination

    assert PortalCursorPagination.max_page_size == 200
    big = client.get("/api/v1/organizations/", {"page_size": 10_000}).json()
    assert len(big["results"]) == Organization.objects.count()  # 7 < 200: capped, not refused


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", ["/api/v1/users/", "/api/v1/organizations/"])
def test_list_endpoints_issue_constant_queries(world, url):
    client = signed_in(world.admin)
    client.get(url)  # the first request of a session also settles the MFA check
    for _n in range(3):
        MembershipFactory(organization=world.a.organization)
    few = _queries(client, url)
    for _n in range(30):
        MembershipFactory(organization=OrganizationFactory())
    many = _queries(client, url)
    assert few == many


# --- Users and organizations -----------------------------------------------------------------


def test_admin_provisions_a_customer(world, mailoutbox):
    client = signed_in(world.admin)
    response = client.post(
        "/api/v1/users/",
        {
            "email": "New.Person@Example.test",
            "name": "New Person",
            "kind": "customer",
            "organization": world.a.organization.pk,
            "role": "poc",
            "engagement": world.a.objects["engagement"].pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "new.person@example.test"
    assert body["organization"] == world.a.organization.pk and body["role"] == "poc"
    user = User.objects.get(email="new.person@example.test")
    assert Membership.objects.get(user=user).role == "poc"
    assert AuditEntry.objects.filter(action="user.provision", object_id=str(user.pk)).exists()
    assert mailoutbox == []  # the welcome waits in the outbox for the delivery job
    assert deliver_outbox() == (1, 0)
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new.person@example.test"]


def test_provisioning_rules(world):
    client = signed_in(world.admin)
    body = assert_error(
        client.post("/api/v1/users/", {"email": "c@x.test", "kind": "customer"}, format="json"),
        400,
        "validation_error",
    )
    assert {"organization", "role"} <= set(body["fields"])
    body = assert_error(
        client.post(
            "/api/v1/users/",
            {
                "email": "m@x.test",
                "kind": "manager",
                "organization": world.a.organization.pk,
                "role": "poc",
            },
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "organization" in body["fields"]
    body = assert_error(
        client.post(
            "/api/v1/users/",
            {
                "email": world.a.poc.email.upper(),
                "kind": "customer",
                "organization": world.a.organization.pk,
                "role": "poc",
            },
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "email" in body["fields"]
    assert not User.objects.filter(email__in=["c@x.test", "m@x.test"]).exists()


def test_customers_cannot_provision_or_change_people(world):
    client = signed_in(world.a.poc)
    assert_error(
        client.post("/api/v1/users/", {"email": "z@x.test", "kind": "admin"}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        client.patch(f"/api/v1/users/{world.a.member.pk}/", {"name": "Renamed"}, format="json"),
        403,
        "permission_denied",
    )


def test_customers_see_themselves_and_their_organization(world):
    rows = signed_in(world.a.member).get("/api/v1/users/").json()["results"]
    engagement = world.a.objects["engagement"]
    assert {row["email"] for row in rows} == {
        world.a.poc.email,
        world.a.member.email,
        engagement.manager.email,
        engagement.deputy.email,
    }


def test_managers_see_staff_and_the_customers_they_serve(world):
    rows = signed_in(world.manager).get("/api/v1/users/", {"page_size": 200}).json()["results"]
    emails = {row["email"] for row in rows}
    assert {world.admin.email, world.manager.email, world.other_manager.email} <= emails
    assert world.a.poc.email in emails and world.b.poc.email not in emails


def test_organization_field_cannot_name_another_tenant(world):
    """A writable relation is scoped: the admin scope sees all, a narrower one does not."""
    from portal.accounts.api.views import UserSerializer
    from portal.tenancy.scoping import tenant_scope

    with tenant_scope(world.a.poc):
        serializer = UserSerializer(
            data={
                "email": "q@x.test",
                "kind": "customer",
                "role": "poc",
                "organization": world.b.organization.pk,
            }
        )
        assert not serializer.is_valid()
        missing = UserSerializer(
            data={"email": "q@x.test", "kind": "customer", "role": "poc", "organization": 987654}
        )
        assert not missing.is_valid()
        assert [e.code for e in serializer.errors["organization"]] == ["does_not_exist"]
        assert [e.code for e in missing.errors["organization"]] == ["does_not_exist"]
        own = UserSerializer(
            data={
                "email": "q@x.test",
                "kind": "customer",
                "role": "poc",
                "organization": world.a.organization.pk,
            }
        )
        assert own.is_valid(), own.errors


def test_filter_by_another_tenants_organization_is_refused_like_a_missing_one(world):
    client = signed_in(world.a.poc)
    foreign = client.get("/api/v1/users/", {"organization": world.b.organization.pk})
    missing = client.get("/api/v1/users/", {"organization": 987654})
    assert_error(foreign, 400, "validation_error")
    assert foreign.json() == missing.json()
    own = client.get("/api/v1/users/", {"organization": world.a.organization.pk})
    assert own.status_code == 200


def test_admin_updates_and_deactivates_a_user(world):
    client = signed_in(world.admin)
    response = client.patch(
        f"/api/v1/users/{world.a.member.pk}/",
        {"name": "Renamed", "is_active": False},
        format="json",
    )
    assert response.status_code == 200, response.content
    world.a.member.refresh_from_db()
    assert world.a.member.name == "Renamed" and not world.a.member.is_active
    body = assert_error(
        client.patch(f"/api/v1/users/{world.a.member.pk}/", {"kind": "admin"}, format="json"),
        400,
        "validation_error",
    )
    assert "kind" in body["fields"]


def test_organization_update_audits_before_and_after(world):
    client = signed_in(world.admin)
    response = client.patch(
        f"/api/v1/organizations/{world.a.organization.pk}/", {"name": "Renamed Co"}, format="json"
    )
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="organization.update")
    assert entry.before["name"] == "Tenant a Corporation" and entry.after["name"] == "Renamed Co"
    assert entry.actor == world.admin


def test_duplicate_slug_is_a_validation_error(world):
    client = signed_in(world.admin)
    body = assert_error(
        client.post(
            "/api/v1/organizations/",
            {"name": "Other", "slug": world.a.organization.slug},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "slug" in body["fields"]


def test_schema_and_offline_docs(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert (
        "/api/v1/users/" in text and "/api/v1/organizations/" in text and "bearer" in text.lower()
    )
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()
