"""The API's JSON parser: like DRF's, and a body nested too deeply is a 400, not a 500.

Python's JSON decoder recurses once per nesting level and raises RecursionError (a 500 through
DRF) on a body such as `[` × 50,000, which is far below the body size limit. Documents nested
deeper than any representation of this API (a few levels) are refused before a serializer, a
JSON column or the renderer has to walk them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def too_deep(data: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON document nests lists and objects more than `limit` levels
    (iteratively: checking must not recurse either)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: Iterable[Any] = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class PortalJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        message = _("The JSON body is nested more than %(limit)d levels deep.") % {
            "limit": MAX_DEPTH
        }
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(message) from exc
        if too_deep(data):
            raise ParseError(message)
        return data
