"""Reads of vendor news, roadmap announcements, the enablement catalog and consulting.

Publications are provider-wide: a customer sees those whose audience (a service function) is in
the plan of one of their engagements, computed in the query itself so a change of the
entitlement matrix shows or hides them at once; provider staff see all. Call inside the actor's
scope (the engagements and memberships subqueries are what make it the actor's). Each read is a
constant number of queries, never one per row.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from engagements.contracts.models import Engagement
from portal.accounts.models import User
from portal.tenancy.models import Membership
from portal.tenancy.scoping import instances_compiled_once
from reviews.publications.models import Publication, PublicationReceipt

LATEST_LIMIT = 5


def entitled_function_codes() -> QuerySet:
    """Function codes of the plans of the engagements in scope (a subquery)."""
    return Engagement.objects.values("plan__entitlements__function__code")


def visible_publications(user: User) -> QuerySet[Publication]:
    """Publications the user may read, each annotated with `read` (the user opened it)."""
    publications = Publication.objects.select_related("published_by")
    if not user.is_provider_staff:
        publications = publications.filter(audience__in=entitled_function_codes())
    return publications.annotate(
        read=Exists(PublicationReceipt.objects.filter(publication=OuterRef("pk"), user=user))
    )


def latest_publications(user: User, *, limit: int = LATEST_LIMIT) -> list[Publication]:
    """The newest publications for the dashboard, with `read` markers: one query."""
    # Compiled once (`instances_compiled_once`): the dashboard shows it on every visit.
    return instances_compiled_once(
        f"publications.latest:{user.pk}:{user.kind}:{limit}",
        lambda _values: visible_publications(user).order_by("-published_at", "-id")[:limit],
        [],
    )


def visible_receipts(user: User) -> QuerySet[PublicationReceipt]:
    """Receipts the user may see: a customer only their own; staff those of people of the
    organizations in their scope whose engagements are entitled to the publication."""
    receipts = PublicationReceipt.objects.select_related("user")
    if not user.is_provider_staff:
        return receipts.filter(user=user)
    entitled_member = Membership.objects.filter(
        user=OuterRef("user"),
        is_active=True,
        organization__engagements__plan__entitlements__function__code=OuterRef(
            "publication__audience"
        ),
    )
    return receipts.filter(Exists(entitled_member))
