"""Template tags of vendor news and roadmap announcements: the latest ones for the dashboard."""

from __future__ import annotations

from typing import Any

from django import template

from reviews.publications.selectors import LATEST_LIMIT, latest_publications

register = template.Library()


@register.simple_tag(takes_context=True)
def latest_news(context: Any, limit: int = LATEST_LIMIT) -> list:
    """`{% latest_news as publications %}`: the newest publications the signed-in user may read,
    each with `read` (they opened it). One query."""
    user = context["request"].user
    if not user.is_authenticated:
        return []
    return latest_publications(user, limit=limit)
