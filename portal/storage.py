"""Where uploads are kept: a local folder, or a private S3-compatible bucket.

Without `S3_BUCKET` uploads (case attachments, organization logos) live in MEDIA_ROOT on the
web host's disk, which suits one host (or hosts sharing a volume). With it they go to the bucket
through django-storages (`storages.backends.s3.S3Storage`, boto3), so any number of web and
worker hosts share them with no shared disk.

The bucket stays private: the portal never hands out an object's URL (presigned or not).
A download is read from the bucket by the web process and streamed to the caller after the same
permission check as a local file (`portal.files.protected_file_response`), with the same
Content-Disposition, Content-Type, `nosniff` and sandboxing CSP. Streaming costs the web process
the transfer (attachments are at most 10 MB) but keeps every rule in one place: a presigned
URL would outlive a revoked right for its lifetime, be shareable, land in browser history and
proxy logs, and carry whatever headers the bucket adds.

Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the
environment, a profile, or an instance role); none is read into the settings. Report snapshots
are not files: they are rows (`reviews.reports.models.ReportSnapshot.data`, JSON).
"""

from __future__ import annotations

from typing import Any

S3_BACKEND = "storages.backends.s3.S3Storage"


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    prefix: str = "",
    addressing_style: str = "",
) -> dict[str, Any]:
    """The STORAGES["default"] entry of a private bucket (Django 5.2's STORAGES setting)."""
    options: dict[str, Any] = {
        "bucket_name": bucket,
        # Objects under this key prefix: one bucket may serve several deployments.
        "location": prefix.strip("/"),
        # No ACL on upload: the bucket's own policy (private) governs every object.
        "default_acl": None,
        # Should anything ever ask an object for its URL, it is a signed, short-lived one.
        "querystring_auth": True,
        "querystring_expire": 60,
        # Names are random (uuid4) per upload; never overwrite one all the same.
        "file_overwrite": False,
        # A download is spooled in memory up to this size, then to a temporary file.
        "max_memory_size": 1024 * 1024,
    }
    if endpoint_url:  # MinIO, Ceph, moto, …: not AWS itself
        options["endpoint_url"] = endpoint_url
    if region:
        options["region_name"] = region
    if addressing_style:  # "path" for most S3-compatible servers addressed by IP or one host
        options["addressing_style"] = addressing_style
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
