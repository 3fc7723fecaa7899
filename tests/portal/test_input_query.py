"""Unknown query parameters and read-only body fields are a 400 naming them, on every
operation of the API."""

from __future__ import annotations

import pytest

from cases.casework.models import Case
from tests.conftest import signed_in
from tests.portal.bad_input import (
    CASES,
    assert_400,
    case_for,
    fill,
    operations,
    query_parameters,
)

pytestmark = pytest.mark.django_db

# --- Unknown query parameters and read-only fields ------------------------------------------


def test_unknown_query_parameters_are_a_400_naming_them_on_every_operation(world):
    client = signed_in(world.admin)
    failures = []
    for method, path, _operation in operations():
        response = client.generic(
            method, fill(path, 999_999) + "?engagment=1&zz_unknown=2", content_type=""
        )
        fields = response.json().get("fields") if response.content else None
        if response.status_code != 400 or sorted(fields or {}) != ["engagment", "zz_unknown"]:
            failures.append((method, path, response.status_code, fields))
    assert not failures
    assert len(operations()) > 100


def test_documented_query_parameters_are_not_refused_as_unknown(world):
    case = case_for(world)
    client = signed_in(world.admin)
    unknown = "Unknown query parameter."
    for method, path, operation in operations():
        names = query_parameters(operation)
        if method != "GET" or not names:
            continue
        response = client.get(fill(path, case.pk), dict.fromkeys(names, "1"))
        assert response.status_code < 500, (path, response.content[:300])
        assert unknown not in response.content.decode(errors="replace"), path


def test_the_audit_example_typo_no_longer_lists_every_row(world):
    case_for(world)
    client = signed_in(world.admin)
    body = assert_400(client.get(CASES, {"engagment": "1"}))
    assert body["fields"] == {"engagment": ["Unknown query parameter."]}
    assert client.get(CASES, {"engagement": world.a.objects["engagement"].pk}).status_code == 200
    assert client.get(CASES, {"format": "json"}).status_code == 200


def test_read_only_fields_in_a_body_are_a_400_naming_them(world):
    engagement = world.a.objects["engagement"]
    poc = signed_in(world.a.poc)
    payload = {
        "engagement": engagement.pk,
        "kind": "inquiry",
        "subject": "Printer",
        "description": "Text",
        "status": "closed",
        "response_due_at": "2030-01-01T00:00:00Z",
    }
    body = assert_400(poc.post(CASES, payload, format="json"))
    assert sorted(body["fields"]) == ["response_due_at", "status"]
    assert body["fields"]["status"] == ["This field is read-only."]
    assert not Case.objects.exists()
    case = case_for(world)
    response = signed_in(world.admin).patch(
        f"/api/v1/engagements/{engagement.pk}/", {"id": 5, "name": "Renamed"}, format="json"
    )
    assert list(assert_400(response)["fields"]) == ["id"]
    engagement.refresh_from_db()
    assert engagement.name != "Renamed" and case.pk
