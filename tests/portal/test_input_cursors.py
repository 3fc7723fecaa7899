"""A forged cursor is a 400 on `cursor` on every paginated list, never a 404 or a 500."""

from __future__ import annotations

from base64 import b64encode

import pytest

from cases.casework import services as case_services
from tests.conftest import signed_in
from tests.portal.bad_input import (
    CASES,
    case_for,
    fill,
    operations,
    query_parameters,
)

pytestmark = pytest.mark.django_db

# --- Forged cursors -------------------------------------------------------------------------


def _cursor(querystring: str) -> str:
    return b64encode(querystring.encode()).decode()


FORGED_CURSORS = {
    "position not of the field": "cD1hYmM=",  # p=abc
    "not base64": "%%%not-a-cursor%%%",
    "base64 garbage": "!!!!",
    "empty": "",
    "undecodable bytes": b64encode(b"\xff\xfe\xfd").decode(),
    "NUL in the position": _cursor("p=a\x00b"),
    "integer out of range": _cursor("p=99999999999999999999999999"),
    "keyset: not a list": _cursor('p={"a": 1}'),
    "keyset: wrong length": _cursor('p=["1"]'),
    "keyset: not strings": _cursor("p=[1, 2, 3]"),
    "keyset: unreadable values": _cursor('p=["abc", "def", "ghi"]'),
    "keyset: nested": _cursor("p=" + "[" * 5_000),
    "offset not a number": _cursor("o=x&p=1"),
}


# Lists whose cursor position is text (ordered by title): "abc" is a position there.
TEXT_ORDERED = frozenset({"/api/v1/training-resources/"})
TEXT_POSITIONS = frozenset(
    {"position not of the field", "integer out of range"}
    | {name for name in FORGED_CURSORS if name.startswith("keyset") and name != "keyset: nested"}
)


def paginated_lists() -> list[tuple[str, str]]:
    return [
        (path, "GET")
        for method, path, operation in operations()
        if method == "GET" and "cursor" in query_parameters(operation)
    ]


def object_id(path: str, world, case) -> int:
    """The id a list's `{id}` names for the admin who walks them: their own webhook under
    /webhooks/ (nobody else's is visible), the case everywhere else."""
    if path.startswith("/api/v1/webhooks/"):
        from portal.webhooks.models import WebhookDelivery, WebhookSubscription

        hook, _ = WebhookSubscription.objects.get_or_create(
            owner=world.admin,
            defaults={"url": "https://hooks.example.com/", "events": ["ping"], "secret": "0" * 64},
        )
        for n in range(2):
            WebhookDelivery.objects.get_or_create(
                subscription=hook, object_key=f"ping:{n}", defaults={"event": "ping", "body": "{}"}
            )
        return hook.pk
    return case.pk


def test_every_paginated_list_is_walked():
    paths = {path for path, _method in paginated_lists()}
    for path in (
        "/api/v1/users/",
        "/api/v1/organizations/",
        "/api/v1/plans/",
        "/api/v1/service-functions/",
        "/api/v1/engagements/",
        "/api/v1/action-items/",
        "/api/v1/cases/",
        "/api/v1/cases/{id}/events/",
    ):
        assert path in paths


@pytest.mark.parametrize("forged", FORGED_CURSORS)
def test_a_forged_cursor_is_a_400_on_every_paginated_list(world, forged):
    case = case_for(world)
    client = signed_in(world.admin)
    failures = []
    for path, _method in paginated_lists():
        response = client.get(
            fill(path, object_id(path, world, case)), {"cursor": FORGED_CURSORS[forged]}
        )
        body = response.json()
        if forged in TEXT_POSITIONS and path in TEXT_ORDERED:
            assert response.status_code == 200, body  # any text is a position in a text order
            continue
        if response.status_code != 400 or list(body.get("fields", {})) != ["cursor"]:
            failures.append((path, response.status_code, body))
    assert not failures


def test_real_cursors_still_page_through_every_list(world):
    case = case_for(world)
    case_services.case_comment(acting_user=world.manager, case=case, body="One")
    case_services.case_comment(acting_user=world.manager, case=case, body="Two")
    client = signed_in(world.admin)
    followed = 0
    for path, _method in paginated_lists():
        first = client.get(fill(path, object_id(path, world, case)), {"page_size": 1})
        assert first.status_code == 200, (path, first.content[:300])
        following = first.json()["next"]
        if following:
            second = client.get(following)
            assert second.status_code == 200, (path, second.content[:300])
            previous = client.get(second.json()["previous"])
            assert previous.status_code == 200, (path, previous.content[:300])
            assert previous.json()["results"] == first.json()["results"], path
            followed += 1
    assert followed >= 5  # users, organizations, plans, service functions, the case's events


def test_an_odd_time_zone_offset_in_a_datetime_cursor_is_read_in_utc(world):
    """PostgreSQL refuses offsets over 15:59 (a DataError): the cursor is normalised first."""
    client = signed_in(world.admin)
    forged = _cursor('p=["2030-01-01T00:00:00-23:30", "1"]')
    response = client.get(CASES, {"cursor": forged, "ordering": "received_at"})
    assert response.status_code == 200, response.content
    response = client.get("/api/v1/absences/", {"cursor": _cursor("p=2030-01-01T00:00-23:30")})
    assert response.status_code == 200, response.content
