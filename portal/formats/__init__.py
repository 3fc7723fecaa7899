"""Per-language date formats (settings.FORMAT_MODULE_PATH) and the patterns Django has no name for.

Django's named formats (DATETIME_FORMAT, DATE_FORMAT, ...) are set per language in
``<lang>/formats.py``; the extra names below (DAY_TIME_FORMAT, ...) live in the same modules and are
read by :func:`local_format`, used by the template filters in ``portal.templatetags.when``.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any, cast

from django.utils import formats, timezone
from django.utils.dateformat import DateFormat, re_escaped, re_formatchars
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS, WEEKDAYS_ABBR
from django.utils.timesince import TIME_STRINGS, timesince, timeuntil
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


def _pattern(name: str) -> str:
    """The active language's pattern for a Django named format or one of EXTRA_FORMATS."""
    if name in EXTRA_FORMATS:
        return local_format(name)
    return str(formats.get_format(name))


# The format characters `LocalDates` computes itself; any other goes through Django's
# DateFormat (the same answer, at its usual cost).
_FAST = frozenset("dDjlmnMFYyHGisb")


class LocalDates:
    """Many datetimes formatted with the active language's named formats, as the `date` filter
    (and `portal.templatetags.when`) would: in the current time zone, with the same patterns
    (`formats.get_format` / `local_format`, never a pattern of ours) and the same translated
    weekday and month names — but the names translated once per instance, not per value.

    Made per request (the language and zone are read once): a list of 50 items shows some 150
    dates, and the `date` filter pays a `DateFormat`, a pattern split and translation look-ups for
    each (tests/portal/test_formats.py compares the two in both languages)."""

    def __init__(self, zone: tzinfo | None = None) -> None:
        self.zone = zone or timezone.get_current_timezone()
        self._compiled: dict[str, list[tuple[bool, str]]] = {}
        self._names: dict[str, list[str]] = {}

    def _names_of(self, char: str) -> list[str]:
        names = self._names.get(char)
        if names is None:
            if char == "D":
                names = [str(WEEKDAYS_ABBR[index]) for index in range(7)]
            elif char == "l":
                names = [str(WEEKDAYS[index]) for index in range(7)]
            elif char == "M":
                names = ["", *(str(MONTHS_3[index]).title() for index in range(1, 13))]
            elif char == "b":
                names = ["", *(str(MONTHS_3[index]) for index in range(1, 13))]
            else:  # "F"
                names = ["", *(str(MONTHS[index]) for index in range(1, 13))]
            self._names[char] = names
        return names

    def _parts(self, name: str) -> list[tuple[bool, str]]:
        parts = self._compiled.get(name)
        if parts is None:
            parts = []
            for index, piece in enumerate(re_formatchars.split(_pattern(name))):
                if index % 2:
                    parts.append((True, piece))
                elif piece:
                    parts.append((False, re_escaped.sub(r"\1", piece)))
            self._compiled[name] = parts
        return parts

    def local(self, value: datetime) -> datetime:
        """The `date` filter's conversion: an aware value into the current time zone."""
        return value.astimezone(self.zone) if value.tzinfo is not None else value

    def format(self, value: date | None, name: str) -> str:
        """`value|date:name` (a named format such as "DATETIME_FORMAT" or one of EXTRA_FORMATS);
        "" for None."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = self.local(value)
        out = []
        django_format = None
        for is_char, piece in self._parts(name):
            if not is_char:
                out.append(piece)
            elif piece not in _FAST or (piece in "HGis" and not isinstance(value, datetime)):
                django_format = django_format or DateFormat(value)
                out.append(str(getattr(django_format, piece)()))
            elif piece == "j":
                out.append(str(value.day))
            elif piece == "d":
                out.append(f"{value.day:02d}")
            elif piece == "n":
                out.append(str(value.month))
            elif piece == "m":
                out.append(f"{value.month:02d}")
            elif piece == "Y":
                out.append(f"{value.year:04d}")
            elif piece == "y":
                out.append(f"{value.year % 100:02d}")
            elif piece in "Dl":
                out.append(self._names_of(piece)[value.weekday()])
            elif piece in "MbF":
                out.append(self._names_of(piece)[value.month])
            else:
                moment = cast(datetime, value)
                if piece == "H":
                    out.append(f"{moment.hour:02d}")
                elif piece == "G":
                    out.append(str(moment.hour))
                elif piece == "i":
                    out.append(f"{moment.minute:02d}")
                else:  # "s"
                    out.append(f"{moment.second:02d}")
        return "".join(out)


class _UnitText:
    """One of Django's `timesince.TIME_STRINGS` ("%(num)d hours"), its `% {"num": n}` translated
    once per count rather than through a lazy `ngettext` each time."""

    __slots__ = ("done", "text")

    def __init__(self, text: object) -> None:
        self.text = text
        self.done: dict[int, str] = {}

    def __mod__(self, values: dict[str, int]) -> str:
        num = values["num"]
        found = self.done.get(num)
        if found is None:
            found = self.done[num] = str(self.text % values)  # type: ignore[operator]
        return found


class Durations:
    """Django's `timesince` / `timeuntil` (their calendar arithmetic unchanged), with the unit
    words translated once per count and instance: made per request, as the active language is
    (a board of a hundred items at risk and breached otherwise pays two lazy plural look-ups
    per item; tests/portal/test_formats.py compares the two in both languages)."""

    def __init__(self) -> None:
        # Each stands in for a lazy string: `timesince` only applies `% {"num": n}` to it.
        self.strings: dict[str, Any] = {
            name: _UnitText(text) for name, text in TIME_STRINGS.items()
        }

    def since(self, value: datetime, now: datetime) -> str:
        return timesince(value, now, time_strings=self.strings)

    def until(self, value: datetime, now: datetime) -> str:
        return timeuntil(value, now, time_strings=self.strings)
