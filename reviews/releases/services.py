"""Release management: announced changes and their acknowledgements: writes."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.contacts.selectors import is_active_contact, named_contacts
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import require_staff
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import Conflict, InvalidInput, NotAllowed
from portal.locks import locked_again
from portal.notifications import notify
from portal.workflow import move_status
from reviews.maintenance.services import STAFF_ONLY, local_text
from reviews.releases.models import ChangeAcknowledgement, ChangeItem

CHANGE_FIELDS = ("title", "kind", "scheduled_at", "impact", "rollback_plan")


CHANGE_TRANSITIONS: dict[str, set[str]] = {
    ChangeItem.Status.PLANNED: {
        ChangeItem.Status.SCHEDULED,
        ChangeItem.Status.DONE,
        ChangeItem.Status.CANCELLED,
    },
    ChangeItem.Status.SCHEDULED: {
        ChangeItem.Status.PLANNED,
        ChangeItem.Status.DONE,
        ChangeItem.Status.CANCELLED,
    },
    ChangeItem.Status.DONE: {ChangeItem.Status.ROLLED_BACK},
}


def _check_change(fields: dict, *, new: bool) -> None:
    errors: dict[str, list[str]] = {}
    if not str(fields.get("title", "")).strip():
        errors["title"] = [_("Give the change a title.")]
    if fields.get("kind") not in ChangeItem.Kind.values:
        errors["kind"] = [_("Choose platform, software or architecture.")]
    scheduled_at = fields.get("scheduled_at")
    if scheduled_at is None:
        errors["scheduled_at"] = [_("Give the date of the change.")]
    elif new and scheduled_at <= timezone.now():
        errors["scheduled_at"] = [_("Choose a time in the future.")]
    if errors:
        raise InvalidInput(fields=errors)


@transaction.atomic
def change_plan(
    *,
    acting_user: User,
    engagement: Engagement,
    title: str,
    kind: str,
    scheduled_at: datetime,
    impact: str = "",
    rollback_plan: str = "",
) -> ChangeItem:
    """The manager, deputy or an admin announces a change; named contacts are notified once
    and asked to acknowledge it."""
    require_staff(acting_user, engagement, STAFF_ONLY)
    require_entitlement(engagement, FunctionCode.RELEASE_MANAGEMENT)
    fields = {
        "title": title.strip(),
        "kind": kind,
        "scheduled_at": scheduled_at,
        "impact": impact.strip(),
        "rollback_plan": rollback_plan.strip(),
    }
    _check_change(fields, new=True)
    change = ChangeItem.objects.create(engagement=engagement, created_by=acting_user, **fields)
    audit(
        actor=acting_user,
        action="change.plan",
        instance=change,
        after=snapshot(change),
        organization_id=engagement.organization_id,
    )

    def render() -> tuple[str, str]:
        return (
            _("Change announced for %(engagement)s: %(title)s")
            % {"engagement": engagement, "title": change.title},
            _("Scheduled for %(when)s (%(zone)s). Please acknowledge it in the portal.")
            % {"when": local_text(change.scheduled_at, engagement), "zone": engagement.timezone},
        )

    notify(
        users=named_contacts(engagement),
        kind="change.planned",
        key=f"change:{change.pk}:planned",
        url=f"/engagements/{engagement.pk}/changes/#change-{change.pk}",
        engagement=engagement,
        render=render,
    )
    return change


@transaction.atomic
def change_update(*, acting_user: User, change: ChangeItem, **changes: object) -> ChangeItem:
    """The engagement's staff edit an open change (title, kind, date, impact, rollback plan)."""
    change = locked_again(change, "engagement__plan")
    require_staff(acting_user, change.engagement, STAFF_ONLY)
    require_entitlement(change.engagement, FunctionCode.RELEASE_MANAGEMENT)
    if not change.is_open:
        raise Conflict(_("A change that is done, cancelled or rolled back cannot be edited."))
    unknown = set(changes) - set(CHANGE_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: [_("Unknown field.")] for name in sorted(unknown)})
    before = snapshot(change)
    fields = {name: getattr(change, name) for name in CHANGE_FIELDS}
    fields.update({k: (v.strip() if isinstance(v, str) else v) for k, v in changes.items()})
    _check_change(fields, new=False)
    for name, value in fields.items():
        setattr(change, name, value)
    change.save()
    audit(
        actor=acting_user,
        action="change.update",
        instance=change,
        before=before,
        after=snapshot(change),
        organization_id=change.engagement.organization_id,
    )
    return change


@transaction.atomic
def change_update_status(*, acting_user: User, change: ChangeItem, status: str) -> ChangeItem:
    """planned ⇄ scheduled → done → rolled back; an open change can be cancelled. 409 otherwise."""
    change = locked_again(change, "engagement__plan")
    require_staff(acting_user, change.engagement, STAFF_ONLY)
    require_entitlement(change.engagement, FunctionCode.RELEASE_MANAGEMENT)
    return move_status(
        acting_user=acting_user,
        item=change,
        status=status,
        transitions=CHANGE_TRANSITIONS,
        action="change.status",
        message=_("A %(current)s change cannot become %(new)s."),
        organization_id=change.engagement.organization_id,
    )


def change_acknowledge(*, acting_user: User, change: ChangeItem) -> ChangeAcknowledgement:
    """A named contact acknowledges the change. Idempotent: acknowledging again returns the
    first acknowledgement and writes nothing."""
    engagement = change.engagement
    require_entitlement(engagement, FunctionCode.RELEASE_MANAGEMENT)
    if not is_active_contact(engagement, acting_user):
        raise NotAllowed(_("Only the engagement's named contacts acknowledge changes."))
    existing = ChangeAcknowledgement.objects.filter(change=change, user=acting_user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            acknowledgement = ChangeAcknowledgement.objects.create(change=change, user=acting_user)
            audit(
                actor=acting_user,
                action="change.acknowledge",
                instance=change,
                after={"user": acting_user.pk},
                organization_id=engagement.organization_id,
            )
    except IntegrityError:
        # A twin request acknowledged it between our read and our insert.
        return ChangeAcknowledgement.objects.get(change=change, user=acting_user)
    return acknowledgement
