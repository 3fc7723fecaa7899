"""Named contacts of an engagement (at most three): reads."""

from __future__ import annotations

from django.db.models import QuerySet

from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from engagements.selectors import serves
from portal.accounts.models import User
from portal.errors import NotAllowed
from portal.tenancy.models import Organization


def active_contacts(engagement: Engagement) -> QuerySet[Contact]:
    return Contact.objects.filter(engagement=engagement, removed_at__isnull=True).select_related(
        "user"
    )


def is_active_contact(engagement: Engagement, user: User) -> bool:
    return Contact.objects.filter(
        engagement=engagement, user=user, removed_at__isnull=True
    ).exists()


def require_staff_or_contact(acting_user: User, engagement: Engagement, message: str) -> None:
    if not serves(acting_user, engagement) and not is_active_contact(engagement, acting_user):
        raise NotAllowed(message)


def named_contacts(engagement: Engagement) -> list[User]:
    return [
        contact.user
        for contact in Contact.objects.filter(
            engagement=engagement, removed_at__isnull=True
        ).select_related("user")
    ]


def contact_engagements_of(organization: Organization) -> list[tuple[int, str]]:
    """The organization's engagements, for naming a new person a contact of one."""
    return [
        (engagement.pk, engagement.name)
        for engagement in Engagement.objects.filter(organization=organization).order_by(
            "name", "id"
        )
    ]
