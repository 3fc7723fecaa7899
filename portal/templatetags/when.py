"""Date filters for the patterns Django has no named format for, per language (portal.formats).

A built-in library (settings TEMPLATES builtins): ``{{ moment|day_time }}``,
``{{ moment|weekday_time }}``, ``{{ day|weekday_date }}``. Like ``date``, they show an aware
datetime in the current time zone unless it was already placed in a zone with ``|timezone:``.
"""

from __future__ import annotations

from datetime import date

from django import template
from django.utils.dateformat import format as format_date

from portal.formats import local_format

register = template.Library()


def _formatted(value: date | None, name: str) -> str:
    if not value:  # None, or "" from a missing variable
        return ""
    try:
        return format_date(value, local_format(name))
    except AttributeError:
        return ""


@register.filter(expects_localtime=True, is_safe=False)
def day_time(value: date | None) -> str:
    """'Fri 4 Dec, 14:30' / '12월 4일 (금) 14:30'."""
    return _formatted(value, "DAY_TIME_FORMAT")


@register.filter(expects_localtime=True, is_safe=False)
def weekday_time(value: date | None) -> str:
    """'Fri 14:30' / '(금) 14:30'."""
    return _formatted(value, "WEEKDAY_TIME_FORMAT")


@register.filter(expects_localtime=True, is_safe=False)
def weekday_date(value: date | None) -> str:
    """'Fri 4 Dec' / '12월 4일 (금)'."""
    return _formatted(value, "WEEKDAY_DATE_FORMAT")
