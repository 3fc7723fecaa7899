"""The customer profile (service function `customer_intelligence`): writes."""

from __future__ import annotations

from typing import Any, cast

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.contacts.selectors import is_active_contact, require_staff_or_contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, require_entitlement
from engagements.intelligence.models import CustomerProfile
from engagements.selectors import serves
from portal.accounts.models import User
from portal.audit import audit, changed_fields, snapshot, trail
from portal.errors import InvalidInput, refuse_unknown_fields
from portal.text import TEXT_MAX

PROFILE_FIELDS = CustomerProfile.TEXT_FIELDS


def profile_url(engagement_id: int) -> str:
    return f"/engagements/{engagement_id}/intelligence/"


def may_edit_profile(user: User, engagement: Engagement) -> bool:
    return serves(user, engagement) or is_active_contact(engagement, user)


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
    refuse_unknown_fields(changes, PROFILE_FIELDS)
    require_entitlement(engagement, FunctionCode.CUSTOMER_INTELLIGENCE)
    require_staff_or_contact(
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
