"""Control characters in user text: one rule for the API, the pages and e-mail headers.

PostgreSQL stores no NUL character at all (a DataError, a 500), and a line break in a one-line
value such as a case subject ends up in e-mail headers, where Python refuses it
(BadHeaderError) every time the mail is retried. So single-line text refuses every C0 control
character and DEL; multi-line text keeps line breaks and tabs and refuses the rest.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# The longest free text (a description, a comment, a profile section) any field takes.
TEXT_MAX = 20_000

SINGLE_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MULTI_LINE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NUL_MESSAGE = _("Null characters are not allowed.")
SINGLE_LINE_MESSAGE = _("Line breaks, tabs and other control characters are not allowed here.")
MULTI_LINE_MESSAGE = _("Control characters other than line breaks and tabs are not allowed.")


def control_character_error(value: str, *, multiline: bool) -> Any:
    """The message for text with a control character its kind of field refuses, or None."""
    pattern = MULTI_LINE_CONTROL if multiline else SINGLE_LINE_CONTROL
    if not pattern.search(value):
        return None
    return (
        NUL_MESSAGE
        if "\x00" in value
        else (MULTI_LINE_MESSAGE if multiline else SINGLE_LINE_MESSAGE)
    )


def contains_nul(value: Any) -> bool:
    """Whether a parsed JSON value holds a NUL in any string or key (walked without recursion)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


@deconstructible
class ControlCharacterValidator:
    """A form field validator: `multiline` fields keep line breaks and tabs."""

    def __init__(self, *, multiline: bool = False) -> None:
        self.multiline = multiline

    def __call__(self, value: Any) -> None:
        # A NUL is refused by Django's own CharField validator: one message is enough.
        if isinstance(value, str) and "\x00" not in value:
            message = control_character_error(value, multiline=self.multiline)
            if message is not None:
                raise ValidationError(message, code="control_characters")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ControlCharacterValidator) and other.multiline == self.multiline


_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\s]+")


def header_safe(value: str) -> str:
    """One line for an e-mail header: runs of whitespace and control characters become one
    space, so a subject saved before the rule (or built from one) still sends."""
    return _HEADER_BREAKS.sub(" ", str(value)).strip()
