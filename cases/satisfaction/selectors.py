"""The customer's rating of a resolution: reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from cases.casework.models import Case
from cases.satisfaction.models import CaseRating
from engagements.contacts.selectors import is_active_contact
from portal.accounts.models import User

# How long after the first rating its author's side may still change it.
RATING_EDIT_DAYS = 14

RATABLE_STATUSES = (Case.Status.RESOLVED, Case.Status.CLOSED)


def may_rate(user: User, case: Case) -> bool:
    """Customers rate: the engagement's active named contacts, or the item's requester."""
    if user.is_provider_staff:
        return False
    return case.raised_by_id == user.pk or is_active_contact(case.engagement, user)


def rating_of(case: Case) -> CaseRating | None:
    return CaseRating.objects.filter(case=case).select_related("rated_by").first()


def editable_until(rating: CaseRating) -> datetime:
    return rating.rated_at + timedelta(days=RATING_EDIT_DAYS)
