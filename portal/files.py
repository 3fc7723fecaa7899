"""Uploaded files: checked on the way in, served only through permission-checked views.

Uploads live under MEDIA_ROOT, which is outside the web root and has no URL, or in a private
bucket (portal/storage.py): the only way out is a view that first fetches the owning object
through the tenant scope (so another tenant's file answers 404 like a missing one) and then calls
`protected_file_response`, which streams the file with our headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from portal.errors import InvalidInput


@dataclass(frozen=True)
class FileKind:
    extension: str
    content_type: str
    magic: tuple[bytes, ...]


PNG = FileKind("png", "image/png", (b"\x89PNG\r\n\x1a\n",))
JPEG = FileKind("jpg", "image/jpeg", (b"\xff\xd8\xff",))
PDF = FileKind("pdf", "application/pdf", (b"%PDF-",))
IMAGES = (PNG, JPEG)


def check_upload(
    upload: UploadedFile, *, field: str, kinds: tuple[FileKind, ...], max_bytes: int
) -> FileKind:
    """The kind of an upload, judged by its first bytes (not its name or declared type)."""
    if upload.size is None or upload.size > max_bytes:
        raise InvalidInput(
            fields={
                field: [_("The file is larger than %(limit)d KB.") % {"limit": max_bytes // 1024}]
            }
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for kind in kinds:
        if any(head.startswith(magic) for magic in kind.magic):
            return kind
    allowed = ", ".join(kind.extension.upper() for kind in kinds)
    raise InvalidInput(
        fields={field: [_("Only these file types are accepted: %(types)s.") % {"types": allowed}]}
    )


def protected_file_response(
    field_file: FieldFile, *, kinds: tuple[FileKind, ...], download_name: str, inline: bool = False
) -> FileResponse:
    """Stream a stored file after the caller has checked access to its owner.

    Local or in a bucket (portal/storage.py), the file goes through this response: the bucket is
    never exposed, and the headers are ours whatever the storage says."""
    if not field_file or not field_file.name:
        raise Http404
    kind = next(
        (kind for kind in kinds if PurePosixPath(field_file.name).suffix == f".{kind.extension}"),
        None,
    )
    if kind is None:
        raise Http404
    response = FileResponse(
        _open_stored(field_file),
        as_attachment=not inline,
        filename=f"{download_name}.{kind.extension}",
        content_type=kind.content_type,
    )
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _open_stored(field_file: FieldFile) -> IO[bytes]:
    """The stored file opened for reading; 404 when it is missing (a row whose file is gone
    answers like a missing row, not 500)."""
    storage, name = field_file.storage, field_file.name or ""
    if isinstance(storage, FileSystemStorage):
        try:
            path = Path(storage.path(name)).resolve()
        except SuspiciousFileOperation:
            raise Http404 from None
        if not path.is_relative_to(Path(storage.location).resolve()) or not path.is_file():
            raise Http404
        return path.open("rb")
    # Object storage: the open asks for the object's head (a missing key raises
    # FileNotFoundError); the first read downloads it, spooled to a temporary file past 1 MB.
    try:
        return storage.open(name, "rb")
    except FileNotFoundError as error:
        raise Http404 from error
