"""Uploads on S3-compatible object storage (S3_BUCKET; portal/storage.py), against a real S3 server
on loopback: moto's server mode, spoken to over HTTP by django-storages and boto3 as any bucket.

An attachment uploaded through the API and the page lands in the bucket (checked with boto3, not
through the portal), is read back through the permission-checked download with the same headers
as a local file, stays 404 for another tenant, and a replaced logo's old object is deleted.
Report snapshots are rows (JSON), not files: nothing of theirs goes to the bucket.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.casework import services
from cases.casework.models import Attachment
from portal.storage import S3_BACKEND, s3_storage
from tests.conftest import PNG_BYTES, page_client, signed_in
from tests.settings_probe import settings_process

ROOT = Path(__file__).resolve().parents[2]
PDF = b"%PDF-1.4\n% object storage test\n" + bytes(range(256)) * 8


@dataclass
class Bucket:
    name: str
    prefix: str
    endpoint: str
    client: Any

    def objects(self) -> set[str]:
        listing = self.client.list_objects_v2(Bucket=self.name)
        return {item["Key"] for item in listing.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    # boto3's credential chain, as in production: from the environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "portal-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "portal-test-secret")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_server: str, settings: Any) -> Bucket:
    import boto3

    name = f"portal-uploads-{uuid.uuid4().hex[:12]}"  # moto keeps buckets for the process
    client = boto3.client("s3", endpoint_url=s3_server, region_name="eu-central-1")
    client.create_bucket(
        Bucket=name,
        CreateBucketConfiguration={"LocationConstraint": "eu-central-1"},
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage(
            bucket=name,
            endpoint_url=s3_server,
            region="eu-central-1",
            prefix="tenant-files/",
            addressing_style="path",
        ),
    }
    return Bucket(name, "tenant-files/", s3_server, client)


def test_settings_choose_the_bucket_from_the_environment() -> None:
    """S3_* in the environment make STORAGES["default"] the bucket; without them, local files."""
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.STORAGES['default']))"
    )
    run = settings_process(
        code,
        S3_BUCKET="portal-prod",
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        S3_REGION="eu-central-1",
        S3_PREFIX="/portal/",
    )
    assert run.returncode == 0, run.stderr
    import json

    chosen = json.loads(run.stdout.strip().splitlines()[-1])
    assert chosen["BACKEND"] == S3_BACKEND
    assert chosen["OPTIONS"]["bucket_name"] == "portal-prod"
    assert chosen["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert chosen["OPTIONS"]["region_name"] == "eu-central-1"
    assert chosen["OPTIONS"]["location"] == "portal"
    assert chosen["OPTIONS"]["default_acl"] is None  # the private bucket's policy governs
    run = settings_process(  # the rest of S3_* without a bucket
        code,
        drop={"S3_BUCKET"},
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        S3_REGION="eu-central-1",
        S3_PREFIX="/portal/",
    )
    assert run.returncode == 0, run.stderr
    local = json.loads(run.stdout.strip().splitlines()[-1])
    assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"


@pytest.mark.django_db
def test_attachment_round_trip_through_the_bucket(
    bucket: Bucket, world: Any, settings: Any
) -> None:
    case = services.case_raise(
        acting_user=world.a.poc,
        engagement=world.a.objects["engagement"],
        kind="incident",
        severity=2,
        subject="Stored in the bucket",
    )
    assert default_storage.__class__.__name__ == "S3Storage"
    api = signed_in(world.a.poc)
    response = api.post(
        f"/api/v1/cases/{case.pk}/attachments/",
        {"file": SimpleUploadedFile("Manual v2.PDF", PDF)},
        format="multipart",
    )
    assert response.status_code == 201, response.content[:500]
    attachment = Attachment.objects.get(case=case)
    key = f"{bucket.prefix}{attachment.file.name}"
    # In the bucket, under the prefix, byte for byte (asked of S3 itself, not the portal).
    assert key in bucket.objects()
    assert bucket.read(key) == PDF
    assert not [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]

    # Read back through the API's permission-checked download: our headers, the stored bytes.
    url = f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}/download/"
    download = api.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="Manual v2.pdf"'
    assert download["Content-Length"] == str(len(PDF))
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert download["Cache-Control"] == "private, max-age=300"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "Location" not in download  # streamed, never a redirect to the bucket

    # Another tenant's PoC: 404 as for a missing attachment, with the object in the bucket.
    assert signed_in(world.b.poc).get(url).status_code == 404

    # The page: upload through the form, download through the page's view.
    client = page_client(world.a.poc)
    posted = client.post(
        reverse("case_attach", args=[case.pk]),
        {"file": SimpleUploadedFile("screen.png", PNG_BYTES)},
    )
    assert posted.status_code in (200, 302), posted.content[:500]
    image = Attachment.objects.filter(case=case).exclude(pk=attachment.pk).get()
    assert bucket.read(f"{bucket.prefix}{image.file.name}") == PNG_BYTES
    page = client.get(reverse("case_attachment_download", args=[case.pk, image.pk]))
    assert page.status_code == 200
    assert b"".join(page.streaming_content) == PNG_BYTES
    assert page["Content-Type"] == "image/png"
    assert page["Content-Disposition"].startswith("attachment; filename=")

    # An object deleted behind the portal's back: 404, not a 500.
    bucket.client.delete_object(Bucket=bucket.name, Key=key)
    assert key not in bucket.objects()
    assert api.get(url).status_code == 404


@pytest.mark.django_db
def test_replaced_logo_is_deleted_from_the_bucket(bucket: Bucket, world: Any) -> None:
    """world gave each organization a logo (in the bucket); replacing it deletes the old object
    once the transaction commits, and the logo view streams the new one inline."""
    from django.test import TestCase

    from portal.tenancy.services import organization_set_logo

    organization = world.a.organization
    old_key = f"{bucket.prefix}{organization.logo.name}"
    assert old_key in bucket.objects()
    with TestCase.captureOnCommitCallbacks(execute=True):
        organization_set_logo(
            acting_user=None,
            organization=organization,
            upload=SimpleUploadedFile("new.png", PNG_BYTES + b"\0new", content_type="image/png"),
        )
    new_key = f"{bucket.prefix}{organization.logo.name}"
    assert new_key != old_key
    assert new_key in bucket.objects() and old_key not in bucket.objects()
    response = page_client(world.a.poc).get(reverse("organization_logo", args=[organization.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG_BYTES + b"\0new"
    assert response["Content-Disposition"].startswith("inline;")


def test_report_snapshots_are_rows_not_files() -> None:
    """Report snapshots are JSON rows: the model has no file field to move to the bucket."""
    from django.db.models import FileField

    from reviews.reports.models import ReportSnapshot

    assert not [f for f in ReportSnapshot._meta.get_fields() if isinstance(f, FileField)]
