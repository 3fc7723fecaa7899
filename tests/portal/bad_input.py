"""Shared by the bad-input tests (the outside audit, issue 11 §4 and §2): every API operation
read from the OpenAPI schema the portal serves, so a new list or route is walked without being
listed in a test."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from drf_spectacular.generators import SchemaGenerator

from cases.casework import services as case_services
from cases.casework.models import Case

CASES = "/api/v1/cases/"


@cache
def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of every API operation in the schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def query_parameters(operation: dict[str, Any]) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]


def fill(path: str, value: Any) -> str:
    return re.sub(r"\{[^}]+\}", str(value), path)


def assert_400(response, code: str = "validation_error") -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and body["code"] == code, body
    return body


def case_for(world) -> Case:
    return case_services.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="inquiry",
        severity=2,
        subject="Printer on fire",
        description="It does not work.",
    )
