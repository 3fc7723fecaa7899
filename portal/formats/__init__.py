"""Per-language date formats (settings.FORMAT_MODULE_PATH) and the patterns Django has no name for.

Django's named formats (DATETIME_FORMAT, DATE_FORMAT, ...) are set per language in
``<lang>/formats.py``; the extra names below (DAY_TIME_FORMAT, ...) live in the same modules and are
read by :func:`local_format`, used by the template filters in ``portal.templatetags.when``.
"""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext_noop

# The weekday abbreviations of the "D" format character. Django's own Korean catalogue spells
# them out ("금요일"); the portal's catalogue, read first, shortens them to "금":
# "2026년 12월 4일 (금)".
WEEKDAY_ABBREVIATIONS = [
    gettext_noop("Mon"),
    gettext_noop("Tue"),
    gettext_noop("Wed"),
    gettext_noop("Thu"),
    gettext_noop("Fri"),
    gettext_noop("Sat"),
    gettext_noop("Sun"),
]

EXTRA_FORMATS = {
    # A moment this week or next: the year goes without saying.
    "DAY_TIME_FORMAT": "D j M, H:i",
    # A weekday and a time, beside a full date in another zone.
    "WEEKDAY_TIME_FORMAT": "D H:i",
    # A day this week or next, with its weekday.
    "WEEKDAY_DATE_FORMAT": "D j M",
}


def local_format(name: str) -> str:
    """The active language's pattern for one of EXTRA_FORMATS (English's if it has none)."""
    for module in formats.get_format_modules():
        value = getattr(module, name, None)
        if value:
            return str(value)
    return EXTRA_FORMATS[name]
