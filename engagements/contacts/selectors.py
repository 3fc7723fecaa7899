"""Named contacts of an engagement (at most three): reads."""

from __future__ import annotations

from django.db.models import QuerySet

from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.tenancy.models import Organization


def active_contacts(engagement: Engagement) -> QuerySet[Contact]:
    return Contact.objects.filter(engagement=engagement, removed_at__isnull=True).select_related(
        "user"
    )


def is_active_contact(engagement: Engagement, user: User) -> bool:
    return Contact.objects.filter(
        engagement=engagement, user=user, removed_at__isnull=True
    ).exists()


def contact_engagements_of(organization: Organization) -> list[tuple[int, str]]:
    """The organization's engagements, for naming a new person a contact of one."""
    return [
        (engagement.pk, engagement.name)
        for engagement in Engagement.objects.filter(organization=organization).order_by(
            "name", "id"
        )
    ]
