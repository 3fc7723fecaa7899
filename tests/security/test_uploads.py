"""Upload limits: attachments (PNG, JPEG, PDF or ZIP by content, at most 10 MB), logos (PNG or
JPEG, at most 512 KB), and the request-size ceilings in front of them (portal.api.middleware).
A refused upload answers 400-class — in the SPEC §8 format on the API — and writes nothing: no
row and no file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.casework import services
from cases.casework.models import Attachment, Case
from tests.conftest import PNG_BYTES, page_client, signed_in

pytestmark = pytest.mark.django_db

PDF_HEAD = b"%PDF-1.4\n"
MB = 1024 * 1024


def stored_files() -> set[Path]:
    return {path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()}


@pytest.fixture
def case(world) -> Case:
    return services.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="incident",
        severity=2,
        subject="Upload target",
    )


def api_upload(client, case: Case, name: str, content: bytes):
    return client.post(
        f"/api/v1/cases/{case.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and body["code"] == code, body
    return body


def test_api_takes_an_attachment_up_to_the_documented_10_mb(world, case):
    """The JSON body cap (API_MAX_BODY_BYTES, 1 MB) does not cut attachments short."""
    assert settings.API_MAX_BODY_BYTES < 5 * MB
    content = PDF_HEAD + b"\0" * (services.ATTACHMENT_MAX_BYTES - len(PDF_HEAD))
    response = api_upload(signed_in(world.a.poc), case, "manual.pdf", content)
    assert response.status_code == 201, response.content[:500]
    assert response.json()["size"] == services.ATTACHMENT_MAX_BYTES


def test_api_refuses_an_attachment_over_10_mb_or_of_another_type(world, case):
    before = stored_files()
    poc = signed_in(world.a.poc)
    too_big = PDF_HEAD + b"\0" * (services.ATTACHMENT_MAX_BYTES + 1 - len(PDF_HEAD))
    body = assert_error(api_upload(poc, case, "big.pdf", too_big), 400, "validation_error")
    assert "larger than 10240 KB" in body["fields"]["file"][0]
    for name, content in (
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("screen.png", b"GIF89a not a png"),  # the name does not decide, the bytes do
    ):
        body = assert_error(api_upload(poc, case, name, content), 400, "validation_error")
        assert list(body["fields"]) == ["file"]
    assert not Attachment.objects.filter(case=case).exists()
    assert stored_files() == before


def test_api_refuses_an_oversized_body_before_reading_it(world, case, settings):
    settings.UPLOAD_MAX_BODY_BYTES = 4096
    settings.API_MAX_BODY_BYTES = 2048
    poc = signed_in(world.a.poc)
    body = assert_error(
        api_upload(poc, case, "screen.png", PNG_BYTES + b"\0" * 5000), 413, "request_too_large"
    )
    assert "4096" in body["detail"]
    response = poc.post("/api/v1/cases/", {"subject": "x" * 3000}, format="json")
    assert_error(response, 413, "request_too_large")
    assert api_upload(poc, case, "screen.png", PNG_BYTES).status_code == 201  # under both


def test_page_refuses_an_oversized_or_wrong_attachment_and_writes_nothing(world, case, settings):
    before = stored_files()
    client = page_client(world.a.poc)
    url = reverse("case_attach", args=[case.pk])
    response = client.post(url, {"file": SimpleUploadedFile("notes.png", b"plain text")})
    assert response.status_code == 200
    assert "Only these file types are accepted" in response.content.decode()
    settings.UPLOAD_MAX_BODY_BYTES = 4096  # a page's multipart upload has the same ceiling
    response = client.post(url, {"file": SimpleUploadedFile("big.png", PNG_BYTES + b"\0" * 5000)})
    assert response.status_code == 413
    assert not Attachment.objects.filter(case=case).exists()
    assert stored_files() == before


def test_logo_refused_by_type_or_size_leaves_the_old_logo(world):
    organization = world.a.organization
    old_logo = organization.logo.name
    before = stored_files()
    client = page_client(world.admin)
    url = reverse("organization_edit", args=[organization.pk])
    form = {"name": organization.name, "slug": organization.slug, "is_active": "on"}
    for upload, message in (
        (SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>"), "Only these file types"),
        (SimpleUploadedFile("logo.png", PNG_BYTES + b"\0" * 600_000), "larger than 512 KB"),
    ):
        response = client.post(url, {**form, "logo": upload})
        assert response.status_code == 200 and message in response.content.decode()
    organization.refresh_from_db()
    assert organization.logo.name == old_logo
    assert stored_files() == before
