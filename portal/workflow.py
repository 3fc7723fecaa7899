"""Status moves along a table of allowed transitions, audited: one rule for every workflow whose
items go from status to status (maintenance windows, changes, consulting requests, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import TypeVar

from django.db import models
from django.utils.translation import gettext as _

from portal.accounts.models import User
from portal.audit import audit
from portal.errors import Conflict, InvalidInput

_Item = TypeVar("_Item", bound=models.Model)


def move_status(
    *,
    acting_user: User,
    item: _Item,
    status: str,
    transitions: Mapping[str, Set[str]],
    action: str,
    message: str,
    organization_id: int,
) -> _Item:
    """Move `item` to `status` if `transitions` allows it from its current one (409 with
    `message`, formatted with %(current)s and %(new)s, otherwise; 400 for a status the item's
    `Status` choices do not know); moving to the status it has is no change. One audit entry.
    The caller has locked the row and checked who may do it. A model with `updated_at` gets it
    saved too."""
    choices = type(item).Status  # type: ignore[attr-defined]
    if status not in choices.values:
        raise InvalidInput(fields={"status": [_("Unknown status.")]})
    current = item.status  # type: ignore[attr-defined]
    if status == current:
        return item
    if status not in transitions.get(current, set()):
        raise Conflict(
            message
            % {
                "current": item.get_status_display().lower(),  # type: ignore[attr-defined]
                "new": choices(status).label.lower(),
            }
        )
    item.status = status  # type: ignore[attr-defined]
    fields = ["status"]
    if any(field.name == "updated_at" for field in item._meta.concrete_fields):
        fields.append("updated_at")
    item.save(update_fields=fields)
    audit(
        actor=acting_user,
        action=action,
        instance=item,
        before={"status": current},
        after={"status": status},
        organization_id=organization_id,
    )
    return item
