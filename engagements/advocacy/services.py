"""The advocacy log (service function `customer_advocacy`): writes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from engagements.advocacy.models import AdvocacyItem
from engagements.contacts.selectors import is_active_contact, require_staff_or_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import serves
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput, NotAllowed, refuse_unknown_fields

ADVOCACY_TEXT_FIELDS = ("kind", "title", "description")


ADVOCACY_STAFF_FIELDS = ("status", "outcome", "internal_reference")


ADVOCACY_FIELDS = ADVOCACY_TEXT_FIELDS + ADVOCACY_STAFF_FIELDS


def advocacy_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/advocacy/"


def _check_advocacy(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if not str(values.get("title") or "").strip():
        errors["title"] = [_("Give the item a title.")]
    if values.get("kind") not in AdvocacyItem.Kind.values:
        errors["kind"] = [_("Choose an enhancement request, a concern or an escalation.")]
    if values.get("status") not in AdvocacyItem.Status.values:
        errors["status"] = [_("Choose one of the statuses.")]
    if errors:
        raise InvalidInput(fields=errors)


@transaction.atomic
def advocacy_item_create(
    *,
    acting_user: User,
    engagement: Engagement,
    kind: str,
    title: str,
    description: str = "",
) -> AdvocacyItem:
    """A named contact or the engagement's staff adds an item to the advocacy log (open)."""
    require_entitlement(engagement, FunctionCode.CUSTOMER_ADVOCACY)
    require_staff_or_contact(
        acting_user, engagement, _("Only the engagement's named contacts and staff add items.")
    )
    _check_advocacy({"kind": kind, "title": title, "status": AdvocacyItem.Status.OPEN})
    item = AdvocacyItem.objects.create(
        engagement=engagement,
        kind=kind,
        title=title.strip(),
        description=description,
        raised_by=acting_user,
    )
    audit(
        actor=acting_user,
        action="advocacy_item.create",
        instance=item,
        after=snapshot(item),
        organization_id=engagement.organization_id,
    )
    return item


def may_edit_advocacy_text(user: User, item: AdvocacyItem) -> bool:
    """Staff always; the contact who raised it while it is still open."""
    engagement = item.engagement
    if serves(user, engagement):
        return True
    return (
        item.raised_by_id == user.pk
        and item.status == AdvocacyItem.Status.OPEN
        and is_active_contact(engagement, user)
    )


@transaction.atomic
def advocacy_item_update(*, acting_user: User, item: AdvocacyItem, **changes: Any) -> AdvocacyItem:
    """Change an advocacy item: staff anything of `ADVOCACY_FIELDS`; the contact who raised it
    only its kind, title and description, while it is open."""
    refuse_unknown_fields(changes, ADVOCACY_FIELDS)
    item = (
        AdvocacyItem.objects.select_for_update(of=("self",))
        .select_related("engagement__plan")
        .get(pk=item.pk)
    )
    engagement = item.engagement
    require_entitlement(engagement, FunctionCode.CUSTOMER_ADVOCACY)
    if not may_edit_advocacy_text(acting_user, item):
        raise NotAllowed(_("Only the engagement's staff change this item."))
    if not serves(acting_user, engagement) and set(changes) & set(ADVOCACY_STAFF_FIELDS):
        raise NotAllowed(_("Only the engagement's staff set the status and the outcome."))
    before = snapshot(item)
    values = {name: getattr(item, name) for name in ADVOCACY_FIELDS}
    values.update(changes)
    _check_advocacy(values)
    for name, value in values.items():
        setattr(item, name, value.strip() if isinstance(value, str) else value)
    item.save()
    audit(
        actor=acting_user,
        action="advocacy_item.update",
        instance=item,
        before=before,
        after=snapshot(item),
        organization_id=engagement.organization_id,
    )
    return item
