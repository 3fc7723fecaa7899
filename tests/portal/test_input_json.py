"""Deeply nested JSON is a 400 parse_error on every JSON write, not a RecursionError (500)."""

from __future__ import annotations

import json

import pytest

from cases.casework.models import Case
from tests.conftest import signed_in
from tests.portal.bad_input import (
    CASES,
    assert_400,
    case_for,
)

pytestmark = pytest.mark.django_db

# --- Deeply nested JSON ---------------------------------------------------------------------

DEEP_BODIES = {
    "array": "[" * 50_000,
    "object": '{"a":' * 50_000 + "1" + "}" * 50_000,
    "closed array": "[" * 5_000 + "]" * 5_000,
    "in a field": '{"subject": ' + "[" * 40 + "]" * 40 + "}",
}


@pytest.mark.parametrize("shape", DEEP_BODIES)
def test_deeply_nested_json_is_a_400_on_every_json_write(world, shape):
    case = case_for(world)
    engagement = world.a.objects["engagement"]
    client = signed_in(world.admin)
    writes = [
        ("post", CASES),
        ("post", f"{CASES}{case.pk}/comment/"),
        ("patch", f"/api/v1/engagements/{engagement.pk}/"),
        ("post", "/api/v1/users/"),
        ("post", "/api/v1/reviews/"),
        ("patch", f"/api/v1/organizations/{world.a.organization.pk}/"),
    ]
    for method, path in writes:
        response = client.generic(
            method.upper(), path, DEEP_BODIES[shape], content_type="application/json"
        )
        body = assert_400(response, "parse_error")
        assert "nested" in body["detail"], body
    assert Case.objects.count() == 1


def test_json_nested_within_the_limit_reaches_the_serializer(world):
    body = json.dumps({"subject": [[["x"]]]})
    response = signed_in(world.a.poc).generic("POST", CASES, body, content_type="application/json")
    assert "subject" in assert_400(response)["fields"]
