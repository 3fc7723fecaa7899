"""`Idempotency-Key` for every API POST, and one-time tokens for page forms.

A client that sends `Idempotency-Key: <any string of 1-255 characters>` with a POST may send it
again (a retry after a timeout, a double click) without creating a second object: within
`IDEMPOTENCY_KEY_HOURS` the same user sending the same key with the same method, path and body
gets the first successful answer again (same status and body, with `Idempotent-Replayed: true`);
the same key with another request is a 409 `idempotency_key_reused`.

Keys live in the database (accounts.IdempotencyKey, unique per user and key), not the cache, so
they hold across workers and a cache loss. A keyed POST runs in one transaction that first
inserts the key, then runs the view, then stores the answer; an answer that is not a success
rolls everything back, the key included, so a failed request does not use up its key. A second
request with the same key while the first is in flight waits for the first to commit (its insert
blocks on the unique index) and then replays it; after `IDEMPOTENCY_WAIT_SECONDS` (PostgreSQL)
it gives up with a 409 `idempotency_key_in_progress`. It can never create twice.

The API base views (portal.api.views.ScopedAPIViewMixin) apply this to every POST; the case form
page uses `claim()` with its hidden one-time token. Expired keys are replaced when reused and
purged by the periodic task portal.tasks.purge_idempotency_keys.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.request import Request

from portal.accounts.models import IdempotencyKey
from portal.errors import Conflict, DomainError
from portal.http import AuthenticatedHttpRequest
from portal.tenancy.scoping import raw_sql

HEADER = "Idempotency-Key"
META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_LENGTH = 255
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired


class InvalidIdempotencyKey(DomainError):
    status_code = 400
    code = "validation_error"
    default_detail = gettext_lazy("The Idempotency-Key header is not valid.")


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    default_detail = gettext_lazy("This Idempotency-Key was already used with a different request.")


class IdempotencyKeyInProgress(Conflict):
    code = "idempotency_key_in_progress"
    default_detail = gettext_lazy(
        "A request with this Idempotency-Key is still in progress; retry later."
    )


class Replay(Exception):
    """The key was used before with the same request: answer `record` again."""

    def __init__(self, record: IdempotencyKey) -> None:
        self.record = record
        super().__init__(record.key)

    def response(self) -> HttpResponse:
        record = self.record
        response = HttpResponse(
            bytes(record.body), status=record.status_code, content_type=record.content_type
        )
        if record.location:
            response["Location"] = record.location
        response[REPLAYED_HEADER] = "true"
        return response


def keep_for() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)


def keyed(request: HttpRequest) -> bool:
    """Whether this request is an API POST that carries an Idempotency-Key header."""
    return request.method == "POST" and META_KEY in request.META


def transaction_for(request: HttpRequest) -> contextlib.AbstractContextManager[Any]:
    """The transaction a keyed POST runs in (key, view and stored answer commit together)."""
    return transaction.atomic() if keyed(request) else contextlib.nullcontext()


def header_key(request: HttpRequest) -> str:
    key = request.META.get(META_KEY, "").strip()
    if not key or len(key) > MAX_LENGTH:
        message = _("Send 1 to %(max)d characters.") % {"max": MAX_LENGTH}
        raise InvalidIdempotencyKey(fields={HEADER: [message]})
    return key


def _canonical(value: Any) -> Any:
    if isinstance(value, QueryDict):
        return {key: _canonical(value.getlist(key)) for key in sorted(value.keys())}
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    return value


def fingerprint(request: Request) -> str:
    """The method, the path with its query and the parsed body (key order and whitespace of
    JSON do not matter; files count by name, size and content)."""
    body = json.dumps(_canonical(request.data), sort_keys=True, default=str)
    text = f"{request.method} {request.get_full_path()}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def _insert(record: IdempotencyKey) -> None:
    """Insert the key in a savepoint; on PostgreSQL wait at most IDEMPOTENCY_WAIT_SECONDS for
    a transaction that holds the same key, instead of the server's default (forever)."""
    with transaction.atomic():
        if connection.vendor != "postgresql":
            record.save(force_insert=True)
            return
        with raw_sql("bound the wait for a key another transaction holds") as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            (before,) = cursor.fetchone()
            wait = f"{int(settings.IDEMPOTENCY_WAIT_SECONDS * 1000)}ms"
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [wait])
            record.save(force_insert=True)
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])


def claim(user: Any, key: str, fingerprint: str) -> IdempotencyKey:
    """Take `key` for `user` inside the caller's transaction, or raise: `Replay` (the same
    request succeeded before), `IdempotencyKeyReused`, `IdempotencyKeyInProgress`.

    Must run inside transaction.atomic(); complete() stores the answer before it commits."""
    if not connection.in_atomic_block:
        raise RuntimeError("claim() runs inside the transaction of the request it guards")
    for _attempt in range(2):
        record = IdempotencyKey(user=user, key=key, fingerprint=fingerprint)
        try:
            _insert(record)
            return record
        except IntegrityError:
            pass
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise IdempotencyKeyInProgress() from exc
            raise
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # deleted meanwhile: try again
        if existing.created_at <= timezone.now() - keep_for():
            IdempotencyKey.objects.filter(pk=existing.pk).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if existing.status_code is None:
            raise IdempotencyKeyInProgress()
        raise Replay(existing)
    raise IdempotencyKeyInProgress()


def complete(record: IdempotencyKey, response: HttpResponse) -> None:
    """Keep a success for replays; anything else rolls the request back, key included."""
    if 200 <= response.status_code < 300:
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")[:200]
        record.location = response.get("Location", "")[:500]
        record.body = bytes(getattr(response, "content", b""))
        record.save(update_fields=["status_code", "content_type", "location", "body"])
    else:
        transaction.set_rollback(True)


def begin(request: Request) -> IdempotencyKey | None:
    """For an API view, after authentication: claim the request's key (or raise)."""
    if not keyed(request._request) or not request.user.is_authenticated:
        return None
    key = header_key(request)
    return claim(request.user, key, fingerprint(request))


# --- Page forms: a hidden one-time token ----------------------------------------------------------

FORM_TOKEN_FIELD = "form_token"


def form_token(request: HttpRequest) -> str:
    """The token to render in a page form: the posted one again (a form shown again after an
    error has not used it up), else a new one."""
    return _posted_token(request) or str(uuid.uuid4())


def _posted_token(request: HttpRequest) -> str | None:
    if request.method != "POST":
        return None
    try:
        return str(uuid.UUID(request.POST.get(FORM_TOKEN_FIELD, "")))
    except ValueError:
        return None


def form_key(request: HttpRequest, form: str) -> str | None:
    """The Idempotency key of a posted page form (None without a valid token)."""
    token = _posted_token(request)
    return f"form:{form}:{token}" if token else None


def form_replay(request: AuthenticatedHttpRequest, key: str | None) -> str | None:
    """Where the first submission of this form went, if it was already sent successfully."""
    if key is None:
        return None
    record = (
        IdempotencyKey.objects.filter(
            user=request.user,
            key=key,
            status_code__isnull=False,
            created_at__gt=timezone.now() - keep_for(),
        )
        .only("location")
        .first()
    )
    return record.location if record else None


def form_claim(request: HttpRequest, key: str) -> IdempotencyKey:
    """Take a page form's key inside the transaction that creates (or raise, as claim())."""
    return claim(request.user, key, hashlib.sha256(key.encode()).hexdigest())


def form_complete(record: IdempotencyKey, location: str) -> None:
    record.status_code = 302
    record.location = location[:500]
    record.save(update_fields=["status_code", "location"])


def purge_expired() -> int:
    deleted, _by_model = IdempotencyKey.objects.filter(
        created_at__lt=timezone.now() - keep_for()
    ).delete()
    return deleted


# --- OpenAPI: the header on every POST ----------------------------------------------------------

PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH},
    "description": (
        "Any unique string (a UUID is a good choice). Retrying a POST with the same key and the "
        "same body within 24 hours answers the first success again (same status and body, "
        "header `Idempotent-Replayed: true`) instead of creating again. The same key with "
        "another body answers 409 `idempotency_key_reused`; while the first request with the "
        "key is still running, 409 `idempotency_key_in_progress`. Keys are per user; a failed "
        "request does not use up its key."
    ),
}


def document_header(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the Idempotency-Key header on every POST, and
    the 400 and 409 answers it can give (the error body comes from document_errors)."""
    for path_item in result.get("paths", {}).values():
        operation = path_item.get("post")
        if operation is None:
            continue
        parameters = operation.setdefault("parameters", [])
        if not any(p.get("in") == "header" and p.get("name") == HEADER for p in parameters):
            parameters.append(dict(PARAMETER))
        responses = operation.setdefault("responses", {})
        responses.setdefault("400", {"description": "validation_error or parse_error"})
        conflict = responses.setdefault("409", {"description": "conflict"})
        reasons = "idempotency_key_reused or idempotency_key_in_progress"
        if reasons not in conflict.get("description", ""):
            conflict["description"] = f"{conflict.get('description') or 'conflict'}; {reasons}"
    return result
