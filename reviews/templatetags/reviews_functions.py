"""Template tags of the maintenance and release-management service functions: upcoming windows
for the dashboard, changes still to be acknowledged for the weekly board."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Q

from engagements.models import Engagement
from reviews.selectors_functions import maintenance_upcoming, unacknowledged_soon

register = template.Library()


@register.simple_tag(takes_context=True)
def upcoming_maintenance(context: Any, limit: int = 10) -> list:
    """`{% upcoming_maintenance as windows %}`: open windows of the next 90 days on the
    signed-in user's engagements whose plan includes maintenance. One query."""
    user = context["request"].user
    if not user.is_authenticated:
        return []
    return maintenance_upcoming(user, limit=limit)


@register.simple_tag(takes_context=True)
def unacknowledged_changes(context: Any) -> list:
    """`{% unacknowledged_changes as changes %}`: open changes of the engagements the signed-in
    staff member manages or deputizes, due within 3 business days, that a named contact has not
    acknowledged yet (each with `pending`, the contacts still to acknowledge)."""
    user = context["request"].user
    if not user.is_authenticated or not user.is_provider_staff:
        return []
    served = Engagement.objects.filter(Q(manager=user) | Q(deputy=user)).values_list(
        "pk", flat=True
    )
    return unacknowledged_soon(list(served))
