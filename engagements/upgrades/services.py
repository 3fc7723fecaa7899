"""Upgrade plans and their milestones (service function `upgrade_planning`): writes."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.selectors import require_staff, serves
from engagements.upgrades.models import UpgradeMilestone, UpgradePlan
from portal.accounts.models import User
from portal.audit import audit, snapshot
from portal.errors import InvalidInput, NotAllowed, refuse_unknown_fields
from portal.tenancy.models import Membership

PLAN_FIELDS = ("current_version", "target_version", "status", "notes")


MILESTONE_FIELDS = ("title", "due_date", "owner", "owner_name", "done")


def upgrades_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/upgrades/"


def _check_plan(values: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name in ("current_version", "target_version"):
        if not str(values.get(name) or "").strip():
            errors[name] = [_("Name the version.")]
    if values.get("status") not in UpgradePlan.Status.values:
        errors["status"] = [_("Choose one of the statuses.")]
    if errors:
        raise InvalidInput(fields=errors)


@transaction.atomic
def upgrade_plan_create(
    *,
    acting_user: User,
    engagement: Engagement,
    current_version: str,
    target_version: str,
    status: str = UpgradePlan.Status.DRAFT,
    notes: str = "",
) -> UpgradePlan:
    """Plan an upgrade of the engagement (staff serving it, or admins)."""
    require_entitlement(engagement, FunctionCode.UPGRADE_PLANNING)
    require_staff(acting_user, engagement, _("Only the engagement's staff plan upgrades."))
    values = {"current_version": current_version, "target_version": target_version}
    _check_plan({**values, "status": status})
    plan = UpgradePlan.objects.create(
        engagement=engagement,
        current_version=current_version.strip(),
        target_version=target_version.strip(),
        status=status,
        notes=notes,
        created_by=acting_user,
    )
    audit(
        actor=acting_user,
        action="upgrade_plan.create",
        instance=plan,
        after=snapshot(plan),
        organization_id=engagement.organization_id,
    )
    return plan


@transaction.atomic
def upgrade_plan_update(*, acting_user: User, plan: UpgradePlan, **changes: Any) -> UpgradePlan:
    """Change an upgrade plan (staff serving the engagement, or admins). `changes` takes the
    fields of `PLAN_FIELDS`."""
    refuse_unknown_fields(changes, PLAN_FIELDS)
    plan = (
        UpgradePlan.objects.select_for_update(of=("self",))
        .select_related("engagement__plan")
        .get(pk=plan.pk)
    )
    engagement = plan.engagement
    require_entitlement(engagement, FunctionCode.UPGRADE_PLANNING)
    require_staff(acting_user, engagement, _("Only the engagement's staff change upgrade plans."))
    before = snapshot(plan)
    values = {name: getattr(plan, name) for name in PLAN_FIELDS}
    values.update(changes)
    _check_plan(values)
    for name, value in values.items():
        setattr(plan, name, value.strip() if isinstance(value, str) else value)
    plan.save()
    audit(
        actor=acting_user,
        action="upgrade_plan.update",
        instance=plan,
        before=before,
        after=snapshot(plan),
        organization_id=engagement.organization_id,
    )
    return plan


def _check_milestone(
    engagement: Engagement, values: dict[str, Any], *, check_owner: bool = True
) -> None:
    errors: dict[str, list[str]] = {}
    if not str(values.get("title") or "").strip():
        errors["title"] = [_("Give the milestone a title.")]
    owner = values.get("owner")
    if (
        check_owner
        and owner is not None
        and not (
            (owner.is_provider_staff and owner.is_active)
            or Membership.objects.filter(
                organization_id=engagement.organization_id, user=owner, is_active=True
            ).exists()
        )
    ):
        errors["owner"] = [_("The owner is provider staff or a person of the customer.")]
    if not isinstance(values.get("done"), bool):
        errors["done"] = [_("Done is true or false.")]
    if errors:
        raise InvalidInput(fields=errors)


@transaction.atomic
def upgrade_milestone_add(
    *,
    acting_user: User,
    plan: UpgradePlan,
    title: str,
    due_date: date | None = None,
    owner: User | None = None,
    owner_name: str = "",
) -> UpgradeMilestone:
    """Add a milestone to an upgrade plan (staff serving the engagement, or admins)."""
    plan = UpgradePlan.objects.select_related("engagement__plan").get(pk=plan.pk)
    engagement = plan.engagement
    require_entitlement(engagement, FunctionCode.UPGRADE_PLANNING)
    require_staff(acting_user, engagement, _("Only the engagement's staff add milestones."))
    _check_milestone(engagement, {"title": title, "owner": owner, "done": False})
    milestone = UpgradeMilestone.objects.create(
        plan=plan,
        title=title.strip(),
        due_date=due_date,
        owner=owner,
        owner_name=owner_name.strip(),
    )
    audit(
        actor=acting_user,
        action="upgrade_milestone.create",
        instance=milestone,
        after=snapshot(milestone),
        organization_id=engagement.organization_id,
    )
    return milestone


def may_mark_milestone(user: User, milestone: UpgradeMilestone, engagement: Engagement) -> bool:
    """Staff; or the named contact who owns the milestone."""
    if serves(user, engagement):
        return True
    return milestone.owner_id == user.pk and is_active_contact(engagement, user)


@transaction.atomic
def upgrade_milestone_update(
    *, acting_user: User, milestone: UpgradeMilestone, **changes: Any
) -> UpgradeMilestone:
    """Change a milestone: staff anything of `MILESTONE_FIELDS`; the named contact who owns
    it only `done`."""
    refuse_unknown_fields(changes, MILESTONE_FIELDS)
    milestone = (
        UpgradeMilestone.objects.select_for_update(of=("self",))
        .select_related("plan__engagement__plan")
        .get(pk=milestone.pk)
    )
    engagement = milestone.plan.engagement
    require_entitlement(engagement, FunctionCode.UPGRADE_PLANNING)
    if not may_mark_milestone(acting_user, milestone, engagement):
        raise NotAllowed(_("Only the engagement's staff and the milestone's owner change it."))
    if not serves(acting_user, engagement) and set(changes) - {"done"}:
        raise NotAllowed(_("Only the engagement's staff change milestones."))
    before = snapshot(milestone)
    values = {name: getattr(milestone, name) for name in MILESTONE_FIELDS}
    values.update(changes)
    # An owner who since left the customer does not block marking the milestone done.
    _check_milestone(engagement, values, check_owner="owner" in changes)
    was_done = milestone.done
    for name, value in values.items():
        setattr(milestone, name, value.strip() if isinstance(value, str) else value)
    if milestone.done and not was_done:
        milestone.done_at = timezone.now()
    elif not milestone.done:
        milestone.done_at = None
    milestone.save()
    audit(
        actor=acting_user,
        action="upgrade_milestone.update",
        instance=milestone,
        before=before,
        after=snapshot(milestone),
        organization_id=engagement.organization_id,
    )
    return milestone
