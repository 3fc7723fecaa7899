"""Incremental sync and safe concurrent writes (issue 15): `updated_after` and
`ordering=updated_at` on every list, tombstones at /api/v1/deletions/, ETag with If-Match (412)
and If-None-Match (304), /api/v1/users/me/, Link and X-RateLimit-* headers."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from cases.casework import services as case_services
from cases.casework.models import Case
from engagements.absences.models import Absence
from engagements.contracts.models import Engagement
from engagements.time.models import TimeEntry
from portal.accounts.services import api_token_create
from portal.tenancy.scoping import system_scope
from tests.conftest import signed_in

pytestmark = pytest.mark.django_db

LINK = re.compile(r'<([^>]+)>; rel="(next|prev)"')


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def links(response) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(response.headers.get("Link", ""))}


def walk(client: APIClient, path: str, params: dict[str, Any]) -> list[dict]:
    """Every row of a list, following the Link header's rel="next" page by page."""
    rows: list[dict] = []
    response = client.get(path, {**params, "page_size": 2})
    while True:
        assert response.status_code == 200, response.content
        rows += response.json()["results"]
        following = links(response).get("next")
        if following is None:
            return rows
        assert following.startswith("http://testserver/api/v1/")
        response = client.get(following)


def sync(client: APIClient, path: str, since: Any) -> list[int]:
    params = {"ordering": "updated_at"}
    if since is not None:
        params["updated_after"] = since.isoformat()
    return [row["id"] for row in walk(client, path, params)]


def raise_case(world, subject: str) -> Case:
    return case_services.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="inquiry",
        severity=2,
        subject=subject,
        description="",
    )


def time_entry(world, minutes: int) -> TimeEntry:
    return TimeEntry.objects.create(
        engagement=world.a.objects["engagement"],
        manager=world.manager,
        date=date(2026, 6, 1),
        minutes=minutes,
        activity=TimeEntry.Activity.CALL,
    )


def test_two_sync_rounds_get_each_change_exactly_once(world):
    client = signed_in(world.manager)
    first, second = raise_case(world, "First"), raise_case(world, "Second")
    kept, doomed = time_entry(world, 30), time_entry(world, 45)

    # Round 1: everything so far, oldest change first.
    assert sync(client, "/api/v1/cases/", None) == [first.pk, second.pk]
    assert sync(client, "/api/v1/time-entries/", None) == [kept.pk, doomed.pk]
    assert sync(client, "/api/v1/deletions/", None) == []
    since = timezone.now()

    # Between the rounds: a case answered, a case raised, a time entry deleted.
    response = client.post(f"/api/v1/cases/{second.pk}/respond/", {"body": "On it."})
    assert response.status_code == 200, response.content
    third = raise_case(world, "Third")
    assert client.delete(f"/api/v1/time-entries/{doomed.pk}/").status_code == 204

    # Round 2: exactly what changed since round 1.
    assert sync(client, "/api/v1/cases/", since) == [second.pk, third.pk]
    assert sync(client, "/api/v1/time-entries/", since) == []
    deletions = walk(client, "/api/v1/deletions/", {"updated_after": since.isoformat()})
    assert [(row["type"], row["object_id"]) for row in deletions] == [("time-entry", doomed.pk)]
    since = timezone.now()

    # Round 3: nothing new.
    assert sync(client, "/api/v1/cases/", since) == []
    assert sync(client, "/api/v1/time-entries/", since) == []
    assert sync(client, "/api/v1/deletions/", since) == []
    assert TimeEntry.objects.filter(pk=kept.pk).exists()


def test_updated_at_and_created_at_are_on_every_resource(world):
    client = signed_in(world.admin)
    raise_case(world, "Stamped")
    for path in (
        "/api/v1/cases/",
        "/api/v1/engagements/",
        "/api/v1/organizations/",
        "/api/v1/users/",
        "/api/v1/plans/",
    ):
        rows = client.get(path).json()["results"]
        assert rows, path
        assert {"created_at", "updated_at"} <= set(rows[0]), path


def test_descending_sync_order_and_the_link_walk_reach_every_row(world):
    client = signed_in(world.manager)
    cases = [raise_case(world, f"Item {n}") for n in range(5)]
    ids = [case.pk for case in cases]
    assert [row["id"] for row in walk(client, "/api/v1/cases/", {})] == ids[::-1]
    rows = walk(client, "/api/v1/cases/", {"ordering": "-updated_at"})
    assert [row["id"] for row in rows] == ids[::-1]
    # A list without its own orderings takes the sync order too (time entries: by date).
    entries = [time_entry(world, 10 + n) for n in range(3)]
    rows = walk(client, "/api/v1/time-entries/", {"ordering": "updated_at"})
    assert [row["id"] for row in rows] == [entry.pk for entry in entries]

    page_two = client.get(links(client.get("/api/v1/cases/", {"page_size": 2}))["next"])
    assert set(links(page_two)) == {"next", "prev"}
    back = client.get(links(page_two)["prev"])
    assert [row["id"] for row in back.json()["results"]] == ids[::-1][:2]


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "", "1e9"]
)
def test_an_unreadable_updated_after_is_a_400(world, value):
    response = signed_in(world.manager).get("/api/v1/cases/", {"updated_after": value})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error" and list(body["fields"]) == ["updated_after"]


def test_an_unknown_ordering_is_a_400(world):
    response = signed_in(world.manager).get("/api/v1/time-entries/", {"ordering": "minutes"})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["ordering"]


def test_updated_after_takes_any_offset_inclusively(world):
    case = raise_case(world, "Zoned")
    at = Case.objects.get(pk=case.pk).updated_at
    client = signed_in(world.manager)
    seoul = at.astimezone(timezone.get_fixed_timezone(9 * 60)).isoformat()
    response = client.get("/api/v1/cases/", {"updated_after": seoul})
    assert [row["id"] for row in response.json()["results"]] == [case.pk]
    later = (at + timedelta(microseconds=1)).isoformat()
    assert client.get("/api/v1/cases/", {"updated_after": later}).json()["results"] == []


def test_the_contacts_list_syncs_too(world):
    admin = signed_in(world.admin)
    engagement = world.a.objects["engagement"]
    path = f"/api/v1/engagements/{engagement.pk}/contacts/"
    (contact,) = admin.get(path).json()
    since = timezone.now()
    assert admin.get(path, {"updated_after": since.isoformat()}).json() == []
    response = admin.delete(f"{path}{contact['id']}/", HTTP_IF_MATCH='W/"stale"')
    assert response.status_code == 412
    etag = admin.get(f"{path}{contact['id']}/").headers["ETag"]
    assert admin.delete(f"{path}{contact['id']}/", HTTP_IF_MATCH=etag).status_code == 204
    changed = admin.get(path, {"updated_after": since.isoformat(), "include_removed": "true"})
    assert [row["id"] for row in changed.json()] == [contact["id"]]
    deletions = admin.get("/api/v1/deletions/", {"updated_after": since.isoformat()}).json()
    assert [(row["type"], row["object_id"]) for row in deletions["results"]] == [
        ("contact", contact["id"])
    ]
    assert admin.get(path, {"updated_after": "soon"}).status_code == 400


# --- ETag, If-None-Match, If-Match -----------------------------------------------------------


def test_if_none_match_answers_304_until_the_object_changes(world):
    client = signed_in(world.manager)
    case = raise_case(world, "Cached")
    response = client.get(f"/api/v1/cases/{case.pk}/")
    etag = response.headers["ETag"]
    assert etag.startswith('W/"')
    unchanged = client.get(f"/api/v1/cases/{case.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["ETag"] == etag
    client.post(f"/api/v1/cases/{case.pk}/respond/", {"body": "Looking."})
    changed = client.get(f"/api/v1/cases/{case.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_stale_if_match_is_412_and_changes_nothing(world):
    admin = signed_in(world.admin)
    engagement = world.a.objects["engagement"]
    path = f"/api/v1/engagements/{engagement.pk}/"
    stale = admin.get(path).headers["ETag"]
    response = admin.patch(path, {"language": "ko"}, HTTP_IF_MATCH=stale)
    assert response.status_code == 200, response.content
    current = response.headers["ETag"]
    assert current != stale and admin.get(path).headers["ETag"] == current

    response = admin.patch(path, {"language": "en"}, HTTP_IF_MATCH=stale)
    assert response.status_code == 412
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and body["code"] == "precondition_failed"
    engagement.refresh_from_db()
    assert engagement.language == "ko"
    assert admin.patch(path, {"language": "en"}, HTTP_IF_MATCH="*").status_code == 200


def test_if_match_guards_object_actions_and_deletes(world):
    manager = signed_in(world.manager)
    case = raise_case(world, "Contested")
    stale = manager.get(f"/api/v1/cases/{case.pk}/").headers["ETag"]
    manager.post(f"/api/v1/cases/{case.pk}/respond/", {"body": "First writer."})
    response = manager.post(
        f"/api/v1/cases/{case.pk}/escalate/", {"reason": "Second writer."}, HTTP_IF_MATCH=stale
    )
    assert response.status_code == 412 and response.json()["code"] == "precondition_failed"
    assert Case.objects.get(pk=case.pk).escalated_at is None

    entry = time_entry(world, 20)
    path = f"/api/v1/time-entries/{entry.pk}/"
    etag = manager.get(path).headers["ETag"]
    assert manager.delete(path, HTTP_IF_MATCH='W/"0000"').status_code == 412
    assert TimeEntry.objects.filter(pk=entry.pk).exists()
    assert manager.delete(path, HTTP_IF_MATCH=etag).status_code == 204
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_if_match_waits_for_a_concurrent_writer_then_refuses(world, require_postgres):
    """Another transaction holds the row and changes it: the conditional write waits for the
    lock, then sees the new version and answers 412; it never writes over the other change."""
    engagement = world.a.objects["engagement"]
    path = f"/api/v1/engagements/{engagement.pk}/"
    etag = signed_in(world.admin).get(path).headers["ETag"]
    holding, release = threading.Event(), threading.Event()
    answers: list[int] = []
    errors: list[BaseException] = []

    def other_writer() -> None:
        try:
            with system_scope("a concurrent writer in a test"), transaction.atomic():
                row = Engagement.objects.select_for_update().get(pk=engagement.pk)
                row.language = "ko"
                row.save(update_fields=["language", "updated_at"])
                holding.set()
                release.wait(timeout=10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def conditional_write() -> None:
        try:
            client = signed_in(world.admin)
            answers.append(client.patch(path, {"name": "Mine"}, HTTP_IF_MATCH=etag).status_code)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    assert holding.wait(timeout=10)
    patcher = threading.Thread(target=conditional_write)
    patcher.start()
    time.sleep(0.5)
    assert patcher.is_alive()  # waiting for the row lock
    release.set()
    writer.join(timeout=10)
    patcher.join(timeout=10)
    assert not errors, errors
    assert answers == [412]
    engagement.refresh_from_db()
    assert (engagement.language, engagement.name) == ("ko", "Engagement A")


# --- /users/me/ --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["poc", "member", "manager", "admin"])
def test_me_is_the_signed_in_user_with_kind_and_organizations(world, role):
    user = world.user(role)
    response = signed_in(user).get("/api/v1/users/me/")
    assert response.status_code == 200, response.content
    me = response.json()
    assert me["id"] == user.pk and me["email"] == user.email and me["scopes"] is None
    organization = {"id": world.a.organization.pk, "name": world.a.organization.name}
    expected = {
        "poc": ("customer", [{**organization, "role": "poc"}]),
        "member": ("customer", [{**organization, "role": "member"}]),
        "manager": ("manager", [{**organization, "role": "manager"}]),
        "admin": ("admin", []),
    }[role]
    assert (me["kind"], me["organizations"]) == expected


def test_me_names_the_tokens_scopes(world):
    _token, plain = api_token_create(user=world.a.poc, name="crm", scopes=["read"])
    me = bearer(plain).get("/api/v1/users/me/").json()
    assert me["id"] == world.a.poc.pk and me["scopes"] == ["read"]
    _token, plain = api_token_create(user=world.manager, name="sync", scopes=["read", "write"])
    assert bearer(plain).get("/api/v1/users/me/").json()["scopes"] == ["read", "write"]


# --- Tombstones ----------------------------------------------------------------------------------


def test_deletions_are_scoped_like_the_objects(world):
    admin = signed_in(world.admin)
    entry = time_entry(world, 15)
    assert admin.delete(f"/api/v1/time-entries/{entry.pk}/").status_code == 204
    absence = Absence.objects.create(
        manager=world.manager,
        kind=Absence.Kind.VACATION,
        starts_at=timezone.now() + timedelta(days=30),
        ends_at=timezone.now() + timedelta(days=35),
    )
    assert admin.delete(f"/api/v1/absences/{absence.pk}/").status_code == 204

    def seen(user, **params) -> set[tuple[str, int]]:
        response = signed_in(user).get("/api/v1/deletions/", params)
        assert response.status_code == 200, response.content
        return {(row["type"], row["object_id"]) for row in response.json()["results"]}

    both = {("time-entry", entry.pk), ("absence", absence.pk)}
    assert seen(world.admin) == both
    assert seen(world.manager) == both  # staff see every absence, and their engagements'
    assert seen(world.a.poc) == {("time-entry", entry.pk)}
    assert seen(world.b.poc) == set()
    assert seen(world.other_manager) == {("absence", absence.pk)}
    assert seen(world.admin, type="absence") == {("absence", absence.pk)}
    response = signed_in(world.admin).get("/api/v1/deletions/", {"type": "case"})
    assert response.status_code == 400


# --- Rate-limit headers --------------------------------------------------------------------------


def test_rate_limit_headers_count_down(world):
    client = signed_in(world.a.poc)
    first = client.get("/api/v1/organizations/")
    second = client.get(f"/api/v1/organizations/{world.a.organization.pk}/")
    limit = int(first.headers["X-RateLimit-Limit"])
    assert limit == int(second.headers["X-RateLimit-Limit"]) > 0
    assert int(second.headers["X-RateLimit-Remaining"]) == (
        int(first.headers["X-RateLimit-Remaining"]) - 1
    )
    assert int(first.headers["X-RateLimit-Remaining"]) < limit
    assert int(second.headers["X-RateLimit-Reset"]) > timezone.now().timestamp()
    # Errors carry them too.
    missing = client.get("/api/v1/organizations/999999/")
    assert missing.status_code == 404 and "X-RateLimit-Remaining" in missing.headers
