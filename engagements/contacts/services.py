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
from portal.deletions import deletion_record
from portal.errors import Conflict, InvalidInput
from portal.tenancy.models import Membership, Organization
from portal.tenancy.scoping import unscoped
from portal.webhooks.events import emit


class ContactLimitReached(Conflict):
    code = "contact_limit_reached"


@transaction.atomic
def contact_add(*, acting_user: User, engagement: Engagement, user: User) -> Contact:
    """Name a PoC. Locks the engagement row, so two requests for the last seat serialize and
    exactly one gets it; the other gets `contact_limit_reached`. A member named a contact
    becomes a point of contact of the organization."""
    locked = (
        Engagement.objects.select_for_update(of=("self",))
        .select_related("plan")
        .get(pk=engagement.pk)
    )
    # The membership row is locked after the engagement (one order on every path): its role
    # follows the person's contact entries across all the organization's engagements.
    membership = (
        Membership.objects.select_for_update()
        .filter(organization_id=locked.organization_id, user=user, is_active=True)
        .first()
    )
    if membership is None or not user.is_active:
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
            % {"plan": locked.plan.display_name, "limit": locked.plan.max_contacts},
            fields={
                "user": [
                    _("The engagement already has %(count)d named contacts.") % {"count": active}
                ]
            },
        )
    contact = Contact.objects.create(engagement=locked, user=user, added_by=acting_user)
    _membership_role_follow(membership, acting_user=acting_user)
    audit(
        actor=acting_user,
        action="contact.add",
        instance=contact,
        after={"engagement": locked.pk, "user": user.pk},
        organization_id=locked.organization_id,
    )
    emit("contact.added", contact)
    return contact


@transaction.atomic
def contact_remove(*, acting_user: User, contact: Contact) -> Contact:
    """End a contact; the row stays as history. Someone whose last contact entry in the
    organization ends is a member again."""
    contact = (
        Contact.objects.select_related("engagement")
        .select_for_update(of=("self",))
        .get(pk=contact.pk)
    )
    if contact.removed_at is None:
        contact.removed_at = timezone.now()
        contact.removed_by = acting_user
        contact.save(update_fields=["removed_at", "removed_by", "updated_at"])
        membership = (
            Membership.objects.select_for_update()
            .filter(organization_id=contact.engagement.organization_id, user_id=contact.user_id)
            .first()
        )
        if membership is not None:
            _membership_role_follow(membership, acting_user=acting_user)
        audit(
            actor=acting_user,
            action="contact.remove",
            instance=contact,
            before={"engagement": contact.engagement_id, "user": contact.user_id},
            after={"removed_at": contact.removed_at.isoformat()},
            organization_id=contact.engagement.organization_id,
        )
        # The row stays, but the contact leaves the engagement's list: sync learns it here.
        deletion_record(
            object_type="contact",
            object_id=contact.pk,
            organization_id=contact.engagement.organization_id,
            engagement_id=contact.engagement_id,
        )
        emit("contact.removed", contact)
    return contact


def _membership_role_follow(membership: Membership, *, acting_user: User | None) -> None:
    """Point of contact exactly while the person holds an active contact entry on one of the
    organization's engagements; member otherwise. Call with the membership row locked."""
    holds = (
        unscoped(Contact, "a person's contact entries across the organization's engagements")
        .filter(
            engagement__organization_id=membership.organization_id,
            user_id=membership.user_id,
            removed_at__isnull=True,
        )
        .exists()
    )
    role = Membership.Role.POC if holds else Membership.Role.MEMBER
    if membership.role != role:
        before = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit(
            actor=acting_user,
            action="membership.role",
            instance=membership,
            before={"role": before},
            after={"role": role},
            organization_id=membership.organization_id,
        )


def contact_name_on_provisioning(
    *, acting_user: User, organization: Organization, engagement_id: int, user: User
) -> None:
    """The kernel's provisioning of a point of contact (`portal.tenancy.contacts`): names the
    new person a contact of the organization's engagement, under the plan's cap."""
    engagement = Engagement.objects.filter(pk=engagement_id, organization=organization).first()
    if engagement is None:
        raise InvalidInput(
            fields={"engagement": [_("Choose one of the organization's engagements.")]}
        )
    try:
        contact_add(acting_user=acting_user, engagement=engagement, user=user)
    except ContactLimitReached as error:
        raise ContactLimitReached(
            error.detail,
            fields={"engagement": [m for ms in error.fields.values() for m in ms]},
        ) from error
