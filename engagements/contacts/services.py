"""Named contacts of an engagement (at most three): writes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.contacts.models import Contact
from engagements.contacts.selectors import is_active_contact
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.audit import audit
from portal.errors import Conflict, InvalidInput
from portal.tenancy.models import Membership


class ContactLimitReached(Conflict):
    code = "contact_limit_reached"


@transaction.atomic
def contact_add(*, acting_user: User, engagement: Engagement, user: User) -> Contact:
    """Name a PoC. Locks the engagement row, so two requests for the last seat serialize and
    exactly one gets it; the other gets `contact_limit_reached`."""
    locked = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("plan")
        .get(pk=engagement.pk)
    )
    if (
        not Membership.objects.filter(
            organization_id=locked.organization_id, user=user, is_active=True
        ).exists()
        or not user.is_active
    ):
        raise InvalidInput(
            fields={
                "user": [
                    _("Only active people of the engagement's organization can be named contacts.")
                ]
            }
        )
    if is_active_contact(locked, user):
        raise InvalidInput(fields={"user": [_("This person is already a named contact.")]})
    active = Contact.objects.filter(engagement=locked, removed_at__isnull=True).count()
    if active >= locked.plan.max_contacts:
        raise ContactLimitReached(
            _("The %(plan)s plan allows at most %(limit)d named contacts; remove one first.")
            % {"plan": locked.plan.name, "limit": locked.plan.max_contacts},
            fields={
                "user": [
                    _("The engagement already has %(count)d named contacts.") % {"count": active}
                ]
            },
        )
    contact = Contact.objects.create(engagement=locked, user=user, added_by=acting_user)
    audit(
        actor=acting_user,
        action="contact.add",
        instance=contact,
        after={"engagement": locked.pk, "user": user.pk},
        organization_id=locked.organization_id,
    )
    return contact


@transaction.atomic
def contact_remove(*, acting_user: User, contact: Contact) -> Contact:
    """End a contact; the row stays as history."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.removed_at is None:
        contact.removed_at = timezone.now()
        contact.removed_by = acting_user
        contact.save(update_fields=["removed_at", "removed_by"])
        audit(
            actor=acting_user,
            action="contact.remove",
            instance=contact,
            before={"engagement": contact.engagement_id, "user": contact.user_id},
            after={"removed_at": contact.removed_at.isoformat()},
            organization_id=contact.engagement.organization_id,
        )
    return contact
