"""Template tags of release management: changes still to be acknowledged, for the weekly board."""

from __future__ import annotations

from typing import Any

from django import template

from reviews.releases.selectors import unacknowledged_for_staff

register = template.Library()


@register.simple_tag(takes_context=True)
def unacknowledged_changes(context: Any) -> list:
    """`{% unacknowledged_changes as changes %}`: open changes of the engagements the signed-in
    staff member manages or deputizes, due within 3 business days, that a named contact has not
    acknowledged yet (each with `pending`, the contacts still to acknowledge)."""
    user = context["request"].user
    if not user.is_authenticated or not user.is_provider_staff:
        return []
    return unacknowledged_for_staff(user)
