"""Template filters of the engagement pages: the entitlement gate, hours and methods."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from engagements.catalog.models import Method
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, is_entitled

register = template.Library()


@register.filter
def entitled(engagement: Engagement, function_code: str) -> bool:
    """`engagement|entitled:"<code>"`: does the engagement's plan include it? (An unknown code
    fails: a typo does not hide a link quietly.)"""
    return is_entitled(engagement, FunctionCode(function_code))


@register.filter
def hours(minutes: int | None) -> str:
    """Minutes as hours with one decimal: 450 → "7.5 h"."""
    value = (Decimal(minutes or 0) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    text = number_format(int(value) if value == value.to_integral() else value)
    return _("%(hours)s h") % {"hours": text}


@register.filter
def duration(minutes: int | None) -> str:
    """Minutes as hours and minutes: 90 → "1 h 30 min"."""
    total = int(minutes or 0)
    whole, rest = divmod(total, 60)
    if whole and rest:
        return _("%(hours)d h %(minutes)d min") % {"hours": whole, "minutes": rest}
    if whole:
        return _("%(hours)d h") % {"hours": whole}
    return _("%(minutes)d min") % {"minutes": rest}


@register.filter
def share_of(minutes: int | None, cap_minutes: int | None) -> int:
    """Minutes as a whole percentage of the cap (for progress bars); 0 without a cap."""
    if not cap_minutes:
        return 0
    return round(100 * (minutes or 0) / cap_minutes)


@register.filter
def method_labels(methods: list[str] | None) -> str:
    """Delivery method codes as their (translated) names, joined."""
    labels = [str(Method(code).label) if code in Method.values else code for code in methods or []]
    return ", ".join(labels)
