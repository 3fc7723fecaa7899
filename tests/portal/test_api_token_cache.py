"""The kept token (portal/api/authentication.py): a token checked once is kept with its owner and
the owner's scope for at most `API_TOKEN_CACHE_SECONDS` (1 s), so a polling client does not pay
their queries each time; a revocation, an expiry, a deactivated user or an ended membership takes
effect within that second — at once when saved in this process — and never later."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cases.casework.models import Case
from portal.accounts.models import ApiToken, User
from portal.accounts.services import api_token_create, api_token_revoke
from portal.api import authentication
from portal.tenancy.models import Membership

pytestmark = pytest.mark.django_db
CASES = "/api/v1/cases/"
# The longest a change may take to show, with some room for a slow machine's request.
WITHIN = 1.2


def bearer(plain: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def a_case(world) -> Case:
    now = timezone.now()
    return Case.objects.create(
        engagement=world.a.objects["engagement"],
        kind=Case.Kind.INCIDENT,
        subject="Kept",
        response_due_at=now + timedelta(days=1),
        reminder_due_at=now + timedelta(hours=18),
        raised_by=world.a.poc,
    )


def refused_within(client: APIClient, path: str, status: int) -> float:
    """Polls `path` until it answers `status`; how long that took (fails past WITHIN)."""
    start = time.monotonic()
    while True:
        response = client.get(path)
        elapsed = time.monotonic() - start
        if response.status_code == status:
            return elapsed
        assert response.status_code == 200, response.content
        assert elapsed < WITHIN, f"still {response.status_code} after {elapsed:.2f} s"
        time.sleep(0.05)


def test_settings_keep_a_token_at_most_a_second(settings):
    assert 0 < settings.API_TOKEN_CACHE_SECONDS <= 1


def test_a_kept_token_spares_the_token_and_scope_queries(world):
    case = a_case(world)
    _token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    client = bearer(plain)
    path = f"{CASES}{case.pk}/"
    with CaptureQueriesContext(connection) as first:
        assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as kept:
        assert client.get(path).status_code == 200
    sql = [query["sql"] for query in kept.captured_queries]
    assert not any("accounts_apitoken" in text for text in sql), sql
    assert not any("tenancy_membership" in text for text in sql), sql
    assert len(kept) <= len(first) - 2
    # A wrong secret for a kept key id is refused all the same.
    key_id = plain.split("_")[1]
    assert bearer(f"smp_{key_id}_wrong").get(path).status_code == 401


def test_each_request_gets_its_own_user_and_token(world, monkeypatch):
    _token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    seen = []
    original = authentication.BearerTokenAuthentication.authenticate

    def spy(self, request):
        result = original(self, request)
        seen.append(result)
        return result

    monkeypatch.setattr(authentication.BearerTokenAuthentication, "authenticate", spy)
    client = bearer(plain)
    assert client.get("/api/v1/users/me/").status_code == 200
    assert client.get("/api/v1/users/me/").status_code == 200
    (user_1, token_1), (user_2, token_2) = seen
    assert user_1 is not user_2 and token_1 is not token_2 and user_1.pk == user_2.pk


def test_a_revocation_elsewhere_takes_effect_within_a_second(world):
    token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    client = bearer(plain)
    assert client.get(CASES).status_code == 200
    # Another process revoked it: nothing here saw the save.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert refused_within(client, CASES, 401) <= WITHIN


def test_a_revocation_in_this_process_takes_effect_at_once(world):
    token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    client = bearer(plain)
    assert client.get(CASES).status_code == 200
    api_token_revoke(token=token, acting_user=world.a.poc)
    assert client.get(CASES).status_code == 401


def test_a_kept_token_expires_on_time(world):
    _token, plain = api_token_create(
        user=world.a.poc,
        name="short",
        scopes=["read"],
        expires_at=timezone.now() + timedelta(seconds=0.6),
    )
    client = bearer(plain)
    assert client.get(CASES).status_code == 200  # kept from here
    time.sleep(0.7)
    assert client.get(CASES).status_code == 401  # the kept expiry is checked on every request


def test_an_expiry_moved_elsewhere_takes_effect_within_a_second(world):
    token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    client = bearer(plain)
    assert client.get(CASES).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert refused_within(client, CASES, 401) <= WITHIN


def test_a_deactivated_user_is_refused_within_a_second(world):
    _token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    client = bearer(plain)
    assert client.get(CASES).status_code == 200
    User.objects.filter(pk=world.a.poc.pk).update(is_active=False)
    assert refused_within(client, CASES, 401) <= WITHIN


@pytest.mark.parametrize("elsewhere", [True, False])
def test_an_ended_membership_hides_the_organization_within_a_second(world, elsewhere):
    """The kept scope: the organization's items answer 404 once the membership ended."""
    case = a_case(world)
    _token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    client = bearer(plain)
    path = f"{CASES}{case.pk}/"
    assert client.get(path).status_code == 200
    membership = Membership.objects.get(user=world.a.poc, organization=world.a.organization)
    if elsewhere:
        Membership.objects.filter(pk=membership.pk).update(is_active=False)
        assert refused_within(client, path, 404) <= WITHIN
    else:
        membership.is_active = False
        membership.save()
        assert client.get(path).status_code == 404
    assert client.get(CASES).json()["results"] == []


def test_the_cache_can_be_turned_off(world, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    client = bearer(plain)
    assert client.get(CASES).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client.get(CASES).status_code == 401
