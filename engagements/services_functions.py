"""Operations of three service functions of an engagement: the customer profile
(`customer_intelligence`, all plans), the advocacy log (`customer_advocacy`, TSAM and Premium)
and upgrade plans (`upgrade_planning`, Standard and Premium).

Who may call what (each refuses with 403 `not_entitled` where the plan lacks the function):
profile update — the engagement's staff (manager, deputy, admins) and its named contacts;
advocacy item create — named contacts and staff; its status, outcome and internal reference —
staff; its wording — staff, or the contact who raised it while it is open; upgrade plans and
milestones — staff; a milestone done or not — staff, or the named contact who owns it.
Each change writes one audit entry.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.entitlements import FunctionCode, require_entitlement
from engagements.models import (
    AdvocacyItem,
    CustomerProfile,
    Engagement,
    UpgradeMilestone,
    UpgradePlan,
)
from engagements.selectors import is_active_contact, require_staff, serves
from portal.accounts.models import User
from portal.audit import audit, changed_fields, snapshot, trail
from portal.errors import InvalidInput, NotAllowed
from portal.tenancy.models import Membership

PROFILE_FIELDS = CustomerProfile.TEXT_FIELDS
ADVOCACY_TEXT_FIELDS = ("kind", "title", "description")
ADVOCACY_STAFF_FIELDS = ("status", "outcome", "internal_reference")
ADVOCACY_FIELDS = ADVOCACY_TEXT_FIELDS + ADVOCACY_STAFF_FIELDS
PLAN_FIELDS = ("current_version", "target_version", "status", "notes")
MILESTONE_FIELDS = ("title", "due_date", "owner", "owner_name", "done")
TEXT_MAX = 20_000


def profile_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/intelligence/"


def advocacy_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/advocacy/"


def upgrades_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/upgrades/"


def _refuse_unknown(changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise InvalidInput(fields={name: [_("Unknown field.")] for name in sorted(unknown)})


def _require_staff_or_contact(acting_user: User, engagement: Engagement, message: str) -> None:
    if not serves(acting_user, engagement) and not is_active_contact(engagement, acting_user):
        raise NotAllowed(message)


def may_edit_profile(user: User, engagement: Engagement) -> bool:
    return serves(user, engagement) or is_active_contact(engagement, user)


# --- Customer profile ---------------------------------------------------------------------------


def customer_profile_of(engagement: Engagement) -> CustomerProfile:
    """The engagement's profile, or an unsaved empty one before the first edit."""
    profile = (
        CustomerProfile.objects.filter(engagement=engagement).select_related("updated_by").first()
    )
    return profile or CustomerProfile(engagement=engagement)


@transaction.atomic
def customer_profile_update(
    *, acting_user: User, engagement: Engagement, **changes: Any
) -> CustomerProfile:
    """Change the engagement's customer profile (staff serving it, admins, named contacts);
    made on the first change. Each change is an audit entry naming the acting user.
    `changes` takes the fields of `PROFILE_FIELDS`."""
    _refuse_unknown(changes, PROFILE_FIELDS)
    require_entitlement(engagement, FunctionCode.CUSTOMER_INTELLIGENCE)
    _require_staff_or_contact(
        acting_user, engagement, _("Only the engagement's staff and named contacts edit it.")
    )
    errors = {
        name: [_("Keep it under %(max)d characters.") % {"max": TEXT_MAX}]
        for name, value in changes.items()
        if not isinstance(value, str) or len(value) > TEXT_MAX
    }
    if errors:
        raise InvalidInput(fields=errors)
    # Lock the engagement so two first edits do not both create the profile.
    Engagement.objects.select_for_update().filter(pk=engagement.pk).first()
    profile = CustomerProfile.objects.filter(engagement=engagement).first()
    if profile is None:
        profile = CustomerProfile(engagement=engagement)
    before = snapshot(profile) if profile.pk else None
    for name, value in changes.items():
        setattr(profile, name, value.strip())
    profile.updated_by = acting_user
    profile.updated_at = timezone.now()
    profile.save()
    audit(
        actor=acting_user,
        action="customer_profile.update",
        instance=profile,
        before=before,
        after=snapshot(profile),
        organization_id=engagement.organization_id,
    )
    return profile


def customer_profile_changes(profile: CustomerProfile) -> list[dict[str, Any]]:
    """The profile's history from the audit trail, newest first: who, when, which fields
    changed. One query."""
    if profile.pk is None:
        return []
    labels = {
        name: cast(models.Field, CustomerProfile._meta.get_field(name)).verbose_name
        for name in PROFILE_FIELDS
    }
    return [
        {
            "user": entry.actor,
            "at": entry.at,
            "fields": [labels[name] for name in PROFILE_FIELDS if name in changed_fields(entry)],
        }
        for entry in trail(
            CustomerProfile, object_id=profile.pk, actions=("customer_profile.update",)
        )
    ]


# --- Advocacy items ---------------------------------------------------------------------------


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
    _require_staff_or_contact(
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
    _refuse_unknown(changes, ADVOCACY_FIELDS)
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


# --- Upgrade plans ------------------------------------------------------------------------------


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
    _refuse_unknown(changes, PLAN_FIELDS)
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
    _refuse_unknown(changes, MILESTONE_FIELDS)
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
