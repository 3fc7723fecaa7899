"""Query parameters are strict like bodies: one the operation does not document is a 400.

django-filter and DRF ignore a parameter they do not know, so `?engagment=1` (a typo) answers
every row. The documented parameters of each operation (its filters, the paginator's `cursor`,
`page_size` and `ordering`, and what `extend_schema` names) are read once from the OpenAPI
schema the portal serves, so what the server accepts and what the schema says cannot drift.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.generators import SchemaGenerator
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# DRF's content negotiation reads `?format=` (json, or api for the browsable API) everywhere.
ALWAYS_ALLOWED = frozenset({str(settings.REST_FRAMEWORK.get("URL_FORMAT_OVERRIDE", "format"))})

_lock = threading.Lock()
_documented: dict[tuple[Any, str], frozenset[str]] | None = None


class _Generator(SchemaGenerator):
    """Remembers each operation's view callback with its schema path (`{pk}` already renamed
    as the schema names it, `{id}`)."""

    callbacks: list[tuple[str, str, Any]]

    def _get_paths_and_endpoints(self) -> list[tuple[str, str, str, Any]]:
        endpoints = super()._get_paths_and_endpoints()
        assert self.endpoints is not None  # the call above collected them
        self.callbacks = [
            (path, method, callback)
            for (path, _regex, method, _view), (*_rest, callback) in zip(
                endpoints, self.endpoints, strict=True
            )
        ]
        return endpoints


def documented_query_parameters() -> dict[tuple[Any, str], frozenset[str]]:
    """(view callback, method) -> the query parameters its operation documents."""
    global _documented
    with _lock:
        if _documented is None:
            generator = _Generator()
            paths = generator.get_schema(request=None, public=True)["paths"]
            documented = {}
            for path, method, callback in generator.callbacks:
                operation = paths.get(path, {}).get(method.lower())
                if operation is not None:
                    documented[(callback, method.upper())] = frozenset(
                        parameter["name"]
                        for parameter in operation.get("parameters", [])
                        if parameter["in"] == "query"
                    )
            _documented = documented
        return _documented


def refuse_unknown_query_parameters(request: Request) -> None:
    """400 naming each query parameter the operation does not document (HEAD as GET; OPTIONS
    and views outside the schema are not checked)."""
    if not request.query_params or request.method == "OPTIONS":
        return
    match = getattr(request._request, "resolver_match", None)
    if match is None:
        return
    method = "GET" if request.method == "HEAD" else (request.method or "")
    allowed = documented_query_parameters().get((match.func, method))
    if allowed is None:
        return
    unknown = sorted(set(request.query_params) - allowed - ALWAYS_ALLOWED)
    if unknown:
        raise ValidationError({name: [_("Unknown query parameter.")] for name in unknown})
