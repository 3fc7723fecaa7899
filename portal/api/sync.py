"""Incremental sync and safe concurrent writes for every API resource.

- `?updated_after=<ISO 8601 with offset>` (inclusive) on every list whose rows carry
  `updated_at` (tombstones: `deleted_at`), and `?ordering=updated_at` / `-updated_at` with the
  keyset cursor (ties broken by id), so a sync loop sees each change once.
- An `ETag` on every object response (weak: the object's id and `updated_at`); `If-None-Match`
  on GET answers 304, `If-Match` on a write to one object answers 412 `precondition_failed`
  when the object changed, checked against the row locked in the write's transaction.
- `Link` (RFC 8288, `rel="next"` / `rel="prev"`) on lists and `X-RateLimit-*` on every answer.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime
from typing import Any

from django.db import models, transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request
from rest_framework.response import Response

from portal.errors import DomainError

UPDATED_AFTER = "updated_after"
ORDERING = "ordering"
SYNC_ORDERINGS = ("updated_at", "-updated_at")


class PreconditionFailed(DomainError):
    """The client's `If-Match` names a version of the object that is no longer current."""

    status_code = 412
    code = "precondition_failed"
    default_detail = _(
        "The object has changed since you read it: fetch it again and retry with its new ETag."
    )


def sync_field(model: type[models.Model] | None) -> str | None:
    """The field a model's rows sync by: `updated_at`, or the model's `sync_field`."""
    if model is None:
        return None
    name = getattr(model, "sync_field", "updated_at")
    try:
        model._meta.get_field(name)
    except Exception:
        return None
    return name


def view_model(view: Any) -> type[models.Model] | None:
    queryset = getattr(view, "queryset", None)
    return getattr(queryset, "model", None)


def is_sync_list(view: Any) -> bool:
    """Sync parameters belong to a resource's own list (not nested lists of actions)."""
    return getattr(view, "action", None) == "list" and sync_field(view_model(view)) is not None


def parse_updated_after(raw: str) -> datetime:
    """An ISO 8601 instant with its offset (`2026-12-03T09:00:00+09:00` or `...Z`), or a 400."""
    value = None
    try:
        value = parse_datetime(raw.strip().replace(" ", "+"))
    except (ValueError, OverflowError):
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationError(
            {
                UPDATED_AFTER: [
                    _("Enter a date and time in ISO 8601 with its offset, e.g. %(example)s.")
                    % {"example": "2026-01-31T09:00:00Z"}
                ]
            }
        )
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValidationError({UPDATED_AFTER: [_("Enter a valid date and time.")]}) from exc


class UpdatedAfterFilterBackend(BaseFilterBackend):
    """`?updated_after=` on every list: the rows changed at or after that instant."""

    def filter_queryset(self, request: Request, queryset: models.QuerySet, view: Any) -> Any:
        raw = request.query_params.get(UPDATED_AFTER)
        if raw is None or getattr(view, "action", None) != "list":
            return queryset
        field = sync_field(queryset.model)
        if field is None:
            return queryset
        return queryset.filter(**{f"{field}__gte": parse_updated_after(raw)})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        if not is_sync_list(view):
            return []
        return [
            {
                "name": UPDATED_AFTER,
                "required": False,
                "in": "query",
                "description": "Only rows changed at or after this instant (ISO 8601 with an "
                "offset, inclusive): the last sync's start. Use with `ordering=updated_at`.",
                "schema": {"type": "string", "format": "date-time"},
            }
        ]


def sync_ordering(request: Request, view: Any) -> tuple[str, ...] | None:
    """The keyset ordering `?ordering=updated_at` asks for, None if not asked (or a 400)."""
    chosen = request.query_params.get(ORDERING)
    if chosen is None or not is_sync_list(view):
        return None
    if chosen not in SYNC_ORDERINGS:
        raise ValidationError(
            {
                ORDERING: [
                    _("Order by one of: %(choices)s.") % {"choices": ", ".join(SYNC_ORDERINGS)}
                ]
            }
        )
    field = sync_field(view_model(view))
    descending = chosen.startswith("-")
    return (f"-{field}", "-id") if descending else (str(field), "id")


def ordering_parameter(choices: list[str], default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": choices}
    if default is not None:
        schema["default"] = default
    return {
        "name": ORDERING,
        "required": False,
        "in": "query",
        "description": "The order of the list; `updated_at` (oldest change first) for sync.",
        "schema": schema,
    }


# --- ETags -----------------------------------------------------------------------------------


def etag_of(pk: Any, updated_at: datetime | None) -> str | None:
    if updated_at is None:
        return None
    stamp = updated_at.astimezone(UTC).isoformat(timespec="microseconds")
    digest = hashlib.sha256(f"{pk}:{stamp}".encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def etag_of_instance(instance: models.Model) -> str | None:
    field = sync_field(type(instance))
    return None if field is None else etag_of(instance.pk, getattr(instance, field))


def etag_of_data(data: Any) -> str | None:
    """The ETag of an object representation (it names `id` and `updated_at`)."""
    if not isinstance(data, dict) or "id" not in data or "results" in data:
        return None
    raw = data.get("updated_at")
    if not isinstance(raw, str):
        return None
    value = parse_datetime(raw)
    return None if value is None or value.tzinfo is None else etag_of(data["id"], value)


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §8.8.3.2); `*` matches any current representation."""
    tags = _tags(header)
    return "*" in tags or etag.removeprefix("W/") in tags


def check_if_match(request: Request, instance: models.Model) -> None:
    """412 unless `If-Match` names the object's current version, read from the row locked for
    the rest of the write's transaction (PostgreSQL), so no other writer slips in between."""
    header = request.headers.get("If-Match")
    if not header or request.method in permissions.SAFE_METHODS:
        return
    model = type(instance)
    field = sync_field(model)
    if field is None:
        return
    rows = model._default_manager.filter(pk=instance.pk)
    if transaction.get_connection().in_atomic_block:
        rows = rows.select_for_update(of=("self",))
    current = rows.values_list(field, flat=True).first()
    etag = etag_of(instance.pk, current)
    if etag is None or not matches(header, etag):
        raise PreconditionFailed()


def not_modified(request: Request, response: Response) -> Response | None:
    """A 304 for a GET whose `If-None-Match` names the current ETag."""
    etag = response.headers.get("ETag")
    header = request.headers.get("If-None-Match")
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or not etag:
        return None
    if not header or not matches(header, etag):
        return None
    answer = Response(status=304)
    answer["ETag"] = etag
    return answer


# --- Link and rate-limit headers ----------------------------------------------------------------


def link_header(data: Any) -> str | None:
    if not isinstance(data, dict) or "results" not in data:
        return None
    links = [
        f'<{data[key]}>; rel="{rel}"'
        for key, rel in (("next", "next"), ("previous", "prev"))
        if data.get(key)
    ]
    return ", ".join(links) or None


def rate_limit_headers(throttles: list[Any]) -> dict[str, str]:
    """From the throttles that counted this request: the tightest one's limit, what is left of
    it and when (Unix time) its oldest counted request leaves the window."""
    best: dict[str, str] | None = None
    best_remaining = math.inf
    for throttle in throttles:
        history = getattr(throttle, "history", None)
        limit = getattr(throttle, "num_requests", None)
        duration = getattr(throttle, "duration", None)
        if history is None or limit is None or duration is None:
            continue
        now = getattr(throttle, "now", time.time())
        remaining = max(limit - len(history), 0)
        oldest = history[-1] if history else now
        reset = math.ceil(oldest + duration)
        if remaining < best_remaining:
            best_remaining = remaining
            best = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(reset),
            }
    return best or {}


def peek_throttles(throttles: list[Any], request: Request, view: Any) -> list[Any]:
    """The throttles' history for a request that was refused before throttling ran (401,
    403), read without counting it."""
    from portal.api.throttling import CACHE_ERRORS

    peeked = []
    for throttle in throttles:
        try:
            if getattr(throttle, "rate", None) is None:
                continue
            key = throttle.get_cache_key(request, view)
            if key is None:
                continue
            peek = getattr(throttle, "peek_history", None)
            throttle.history = peek(key) if peek is not None else throttle.cache.get(key, [])
            throttle.now = throttle.timer()
            while throttle.history and throttle.history[-1] <= throttle.now - throttle.duration:
                throttle.history.pop()
        except CACHE_ERRORS:
            continue
        peeked.append(throttle)
    return peeked
