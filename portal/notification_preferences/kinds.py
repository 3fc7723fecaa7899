"""The registry of notification kinds people can set preferences for.

The apps register the kinds they send (`register_kind` in their AppConfig.ready()), the kernel
none: a kind nobody registered (a test's) is sent in the portal and by e-mail, as before
preferences existed. A mandatory kind always reaches the portal and the mailbox at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

STAFF = "staff"
CUSTOMER = "customer"
EVERYONE = "everyone"
CHANNELS = ("in_app", "email", "digest")
CHANNEL_LABELS = {
    "in_app": _("in the portal"),
    "email": _("e-mail each time"),
    "digest": _("daily digest"),
}


def channel_label(code: str) -> str:
    return str(CHANNEL_LABELS.get(code, code))


@dataclass(frozen=True)
class NotificationKind:
    code: str
    label: Promise | str
    audience: str = EVERYONE
    mandatory: bool = False

    def reaches(self, user: Any) -> bool:
        if self.audience == EVERYONE:
            return True
        staff = bool(getattr(user, "is_provider_staff", False))
        return staff if self.audience == STAFF else not staff


KINDS: dict[str, NotificationKind] = {}


def register_kind(
    code: str, label: Promise | str, *, audience: str = EVERYONE, mandatory: bool = False
) -> None:
    if code in KINDS:
        raise ValueError(f"notification kind {code} is registered twice")
    if audience not in (STAFF, CUSTOMER, EVERYONE):
        raise ValueError(f"unknown audience {audience}")
    KINDS[code] = NotificationKind(code, label, audience, mandatory)


def kinds_for(user: Any) -> list[NotificationKind]:
    """The kinds that may reach this person, in registration order."""
    return [kind for kind in KINDS.values() if kind.reaches(user)]
