"""The fuzzer's own checks can fail, and the fixes its findings led to hold.

- The leak check catches tenant B's marker and B's ids; every kind of B's row is marked.
- Strict API input: an unreadable filter or page size is a 400, not an unfiltered list.
- The schema documents each operation's errors with the one error body.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from portal.tenancy.scoping import TenantOwned
from tests.conftest import signed_in
from tests.fuzz.conftest import MARKER
from tests.fuzz.leaks import body_model, id_model, tenant_b_leaks, tenant_b_references

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


class FakeResponse:
    def __init__(self, content: bytes) -> None:
        self.content = content
        self.headers = {"content-type": ["application/json"]}


def test_the_leak_check_catches_markers_and_ids(fuzz_data):
    b = fuzz_data.world.b
    case = b.objects["case"]
    engagement = b.objects["engagement"]
    path = "/api/v1/cases/{id}/"
    assert tenant_b_references({"id": case.pk}, path, fuzz_data.b_ids)
    assert tenant_b_references({"results": [{"engagement": engagement.pk}]}, path, fuzz_data.b_ids)
    nested = {"id": 0, "acknowledgements": [{"user": b.poc.pk}]}
    assert tenant_b_references(nested, "/api/v1/changes/{id}/", fuzz_data.b_ids)
    own = fuzz_data.world.a.objects["case"]
    assert not tenant_b_references({"id": own.pk, "engagement": own.engagement_id}, path, {})
    assert tenant_b_leaks(FakeResponse(f'{{"x": "{MARKER.lower()}"}}'.encode()), path, fuzz_data)


def test_path_segments_name_their_models():
    assert id_model("/api/v1/cases/{id}/attachments/{attachment_id}/download/") == "cases.Case"
    assert body_model("/api/v1/cases/{id}/attachments/") == "cases.Attachment"
    assert body_model("/api/v1/cases/{id}/respond/") == "cases.Case"
    assert body_model("/api/v1/engagements/{id}/hours/") is None


def test_every_kind_of_tenant_b_row_exists_and_its_text_is_marked(fuzz_data):
    """The marker check is only as good as the data: B has a row of every tenant-owned kind
    the API serves, and the admin (who sees everything) reads B's marker back."""
    served = {
        label
        for label in fuzz_data.b_ids
        if label != "accounts.User"
        and issubclass(apps.get_model(label), TenantOwned)
        and not label.endswith(("Reminder", "Snapshot", "OverageFlag", "Membership"))
    }
    empty = sorted(label for label in served if not fuzz_data.b_ids[label])
    assert empty == []
    assert fuzz_data.marked_columns > 30
    admin = signed_in(fuzz_data.world.admin)
    case = fuzz_data.world.b.objects["case"]
    assert MARKER in admin.get(f"/api/v1/cases/{case.pk}/").json()["subject"]
    assert (
        MARKER
        in admin.get(f"/api/v1/organizations/{case.engagement.organization_id}/").json()["name"]
    )


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/organizations/?page_size=abc", "page_size"),
        ("/api/v1/organizations/?page_size=0", "page_size"),
        ("/api/v1/organizations/?is_active=null", "is_active"),
        ("/api/v1/maintenance-windows/?starts_before=", "starts_before"),
        ("/api/v1/cases/?engagement=", "engagement"),
        ("/api/v1/organizations/?is_active=2", "is_active"),
        ("/api/v1/time-entries/?date_before=", "date_before"),
    ],
)
def test_unreadable_filters_and_page_sizes_are_refused(world, url: str, field: str):
    response = signed_in(world.a.poc).get(url)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "validation_error" and set(body["fields"]) == {field}


def test_readable_filters_still_filter(world):
    client = signed_in(world.admin)
    active = client.get("/api/v1/organizations/?is_active=true&page_size=1")
    assert active.status_code == 200 and len(active.json()["results"]) == 1
    dated = client.get("/api/v1/time-entries/?date_after=2020-01-01&date_before=2030-01-01")
    assert dated.status_code == 200, dated.content


def test_a_datetime_filter_with_any_offset_python_reads_is_answered(world):
    """PostgreSQL refuses offsets over 15:59; the filter hands it UTC (was a 500)."""
    response = signed_in(world.a.poc).get(
        "/api/v1/changes/", {"scheduled_after": "2027-02-18T01:18:49+22:45"}
    )
    assert response.status_code == 200, response.content
    far = signed_in(world.a.poc).get(
        "/api/v1/changes/", {"scheduled_after": "9999-12-31T23:00:00-05:00"}
    )
    assert far.status_code == 400 and set(far.json()["fields"]) == {"scheduled_after"}


def test_a_boolean_query_parameter_must_be_a_boolean(world):
    client = signed_in(world.admin)
    url = f"/api/v1/engagements/{world.a.objects['engagement'].pk}/contacts/"
    assert client.get(url, {"include_removed": "true"}).status_code == 200
    response = client.get(url, {"include_removed": "36"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"include_removed"}


def test_a_token_client_posting_to_an_unknown_api_path_gets_404(fuzz_data):
    response = bearer(fuzz_data.tokens["poc"]).post("/api/v1/reviews/C/complete/", {})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_schema_documents_errors_with_the_error_body(world):
    schema: dict[str, Any] = signed_in(world.a.poc).get("/api/schema/?format=json").json()
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "detail", "fields"]
    detail = schema["paths"]["/api/v1/cases/{id}/"]["get"]["responses"]
    assert {"200", "401", "403", "404", "429"} <= set(detail)
    create = schema["paths"]["/api/v1/cases/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "413", "415", "429"} <= set(create)
    for responses in (detail, create):
        for code, response in responses.items():
            if code.startswith("4"):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/Error"
