"""The search page's filter: the query's words marked in a text."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reviews.search.selectors import words_pattern

register = template.Library()


@register.filter
def highlight(text: str, words: Sequence[str]) -> SafeString:
    """`text`, escaped, with each word of the query in <mark>."""
    text = str(text)
    if not words:
        return escape(text)
    parts: list[str] = []
    last = 0
    for found in words_pattern(words).finditer(text):
        parts.append(escape(text[last : found.start()]))
        parts.append(f"<mark>{escape(found.group())}</mark>")
        last = found.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # noqa: S308 (every piece escaped above)
