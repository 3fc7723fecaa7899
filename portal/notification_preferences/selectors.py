"""Reads of notification preferences: the channels of a kind for many people at once (the
outbox), and one person's whole table (their page and the API)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from portal.notification_preferences.kinds import KINDS, kinds_for
from portal.notification_preferences.models import NotificationPreference


@dataclass(frozen=True)
class Channels:
    in_app: bool = True
    email: bool = True
    digest: bool = False


DEFAULT = Channels()


def channels_for(kind: str, user_ids: Iterable[int]) -> dict[int, Channels]:
    """{user id: channels} for one kind: one query, none for an unregistered or mandatory kind
    (those always go in the portal and by e-mail at once)."""
    registered = KINDS.get(kind)
    ids = list(user_ids)
    if registered is None or registered.mandatory or not ids:
        return {}
    return {
        row.user_id: Channels(row.in_app, row.email, row.digest)
        for row in NotificationPreference.objects.filter(kind=kind, user_id__in=ids)
    }


def preferences_of(user: Any) -> list[dict[str, Any]]:
    """Every kind that may reach `user`, with its label and current channels: one query."""
    stored = {row.kind: row for row in NotificationPreference.objects.filter(user=user)}
    rows = []
    for kind in kinds_for(user):
        row = stored.get(kind.code)
        channels = (
            DEFAULT
            if row is None or kind.mandatory
            else Channels(row.in_app, row.email, row.digest)
        )
        rows.append(
            {
                "kind": kind.code,
                "label": str(kind.label),
                "mandatory": kind.mandatory,
                "in_app": channels.in_app,
                "email": channels.email,
                "digest": channels.digest,
            }
        )
    return rows
