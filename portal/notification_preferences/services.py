"""Writes of notification preferences: a person changes their own, audited as a personal
preference."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from portal.audit import audit
from portal.errors import InvalidInput
from portal.notification_preferences.kinds import CHANNELS, kinds_for
from portal.notification_preferences.models import NotificationPreference
from portal.notification_preferences.selectors import preferences_of


def _state(row: dict[str, Any]) -> list[str]:
    return [channel for channel in CHANNELS if row[channel]]


@transaction.atomic
def notification_preferences_set(
    *, acting_user: Any, changes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Change the acting user's own channels: `changes` is a list of {"kind": ..., and any of
    "in_app", "email", "digest": bool}. Refused whole (400, naming each problem) for a kind
    that does not reach them, an unknown channel, a mandatory kind turned off, or e-mail each
    time and the digest both on. Returns the whole table as it now is."""
    current = {row["kind"]: row for row in preferences_of(acting_user)}
    mandatory = {kind.code for kind in kinds_for(acting_user) if kind.mandatory}
    errors: dict[str, list[str]] = {}
    wanted: dict[str, dict[str, bool]] = {}
    for change in changes:
        kind = change.get("kind")
        if not isinstance(kind, str) or kind not in current:
            errors[str(kind)] = [_("Unknown notification kind.")]
            continue
        row = wanted.setdefault(kind, {name: current[kind][name] for name in CHANNELS})
        for name, value in change.items():
            if name == "kind":
                continue
            if name not in CHANNELS:
                errors.setdefault(kind, []).append(
                    _("Unknown channel %(channel)s: choose in_app, email or digest.")
                    % {"channel": name}
                )
            elif not isinstance(value, bool):
                errors.setdefault(kind, []).append(_("Give true or false."))
            else:
                row[name] = value
    for kind, row in wanted.items():
        if kind in mandatory and (not row["in_app"] or not row["email"] or row["digest"]):
            errors.setdefault(kind, []).append(
                _("Required: it always reaches you in the portal and by e-mail.")
            )
        elif row["email"] and row["digest"]:
            errors.setdefault(kind, []).append(
                _("Choose e-mail each time or the daily digest, not both.")
            )
    if errors:
        raise InvalidInput(fields=errors)
    before: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    for kind, row in wanted.items():
        if all(row[name] == current[kind][name] for name in CHANNELS):
            continue
        NotificationPreference.objects.update_or_create(user=acting_user, kind=kind, defaults=row)
        before[kind] = _state(current[kind])
        after[kind] = _state(row)
    if after:
        audit(
            actor=acting_user,
            action="notification_preferences.update",
            instance=acting_user,
            before=before,
            after=after,
        )
    return preferences_of(acting_user)
