"""Naming a customer a point of contact, as the kernel sees it.

A point of contact is a named contact of one of the organization's engagements (the plan caps
them): `Membership.role` is `poc` exactly while the person holds an active contact entry. The
kernel imports no app, so the engagements app registers how a contact is named and which
engagements offer a seat (`register_contact_naming` in its `AppConfig.ready()`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portal.accounts.models import User
from portal.tenancy.models import Organization


@dataclass(frozen=True)
class ContactNaming:
    # (engagement id, label) of the organization's engagements one can be named a contact of
    engagements_of: Callable[[Organization], list[tuple[int, str]]]
    # names `user` a contact of the organization's engagement `engagement_id` (the cap holds);
    # raises InvalidInput on `engagement` for an engagement not of the organization
    name: Callable[..., object]


_naming: list[ContactNaming] = []


def register_contact_naming(naming: ContactNaming) -> None:
    _naming[:] = [naming]


def contact_engagements_of(organization: Organization) -> list[tuple[int, str]]:
    return _naming[0].engagements_of(organization) if _naming else []


def name_contact(
    *, acting_user: User | None, organization: Organization, engagement_id: int, user: User
) -> None:
    if not _naming:  # pragma: no cover - the engagements app is always installed
        raise RuntimeError("no contact naming registered")
    _naming[0].name(
        acting_user=acting_user, organization=organization, engagement_id=engagement_id, user=user
    )
