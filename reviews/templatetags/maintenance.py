"""Template tags of maintenance planning: upcoming windows for the dashboard."""

from __future__ import annotations

from typing import Any

from django import template

from reviews.maintenance.selectors import maintenance_upcoming

register = template.Library()


@register.simple_tag(takes_context=True)
def upcoming_maintenance(context: Any, limit: int = 10) -> list:
    """`{% upcoming_maintenance as windows %}`: open windows of the next 90 days on the
    signed-in user's engagements whose plan includes maintenance. One query."""
    user = context["request"].user
    if not user.is_authenticated:
        return []
    return maintenance_upcoming(user, limit=limit)
