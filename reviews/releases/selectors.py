"""Release management: announced changes and their acknowledgements: reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from engagements.business_time import BusinessCalendar
from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, entitled_engagements
from engagements.selectors import engagement_calendar
from portal.accounts.models import User
from portal.tenancy.scoping import rows_compiled_once
from reviews.releases.models import ChangeAcknowledgement, ChangeItem
from reviews.scheduling.reminders import business_days_before

ACKNOWLEDGE_BUSINESS_DAYS = 3


# Three business days before can be a long weekend plus holidays away: look two weeks ahead.
SOON_HORIZON = timedelta(days=14)


def unacknowledged_soon(
    engagements: Iterable[Engagement] | QuerySet[Engagement], *, now: datetime | None = None
) -> list[ChangeItem]:
    """Open changes of the engagements (whose plan includes release management), due within
    3 business days, that some active named contact has not acknowledged. Each carries
    `pending`: the contacts (users) still to acknowledge. Earliest first."""
    now = now or timezone.now()
    engagement_ids = [
        engagement.pk if isinstance(engagement, Engagement) else engagement
        for engagement in engagements
    ]
    changes = list(
        ChangeItem.objects.filter(
            engagement_id__in=engagement_ids,
            engagement__in=entitled_engagements(FunctionCode.RELEASE_MANAGEMENT),
            status__in=(ChangeItem.Status.PLANNED, ChangeItem.Status.SCHEDULED),
            scheduled_at__gt=now,
            scheduled_at__lte=now + SOON_HORIZON,
        )
        .select_related("engagement__organization")
        .order_by("scheduled_at", "id")
    )
    if not changes:
        return []
    contacts: dict[int, list[Any]] = defaultdict(list)
    for contact in Contact.objects.filter(
        engagement_id__in={change.engagement_id for change in changes}, removed_at__isnull=True
    ).select_related("user"):
        if contact.user.is_active:
            contacts[contact.engagement_id].append(contact.user)
    acknowledged: dict[int, set[int]] = defaultdict(set)
    for change_id, user_id in ChangeAcknowledgement.objects.filter(
        change__in=[change.pk for change in changes]
    ).values_list("change_id", "user_id"):
        acknowledged[change_id].add(user_id)
    calendars: dict[int, BusinessCalendar] = {}
    soon = []
    for change in changes:
        engagement = change.engagement
        if engagement.pk not in calendars:
            calendars[engagement.pk] = engagement_calendar(engagement, with_after_hours=False)
        if (
            business_days_before(
                calendars[engagement.pk], change.scheduled_at, ACKNOWLEDGE_BUSINESS_DAYS
            )
            > now
        ):
            continue
        change.pending = [
            user for user in contacts[engagement.pk] if user.pk not in acknowledged[change.pk]
        ]
        if change.pending:
            soon.append(change)
    return soon


def unacknowledged_for_staff(user: User) -> list[ChangeItem]:
    """`unacknowledged_soon` over the engagements the staff member manages or deputizes.

    The board shows it on every request and there is seldom a change to show: first one
    statement, compiled once (`rows_compiled_once`), of which of those engagements have an open
    change within the horizon; only for them the changes, contacts and acknowledgements. The
    first asks nothing of plans (`unacknowledged_soon` keeps the entitled ones): a subquery
    over plans and entitlements was most of its planning, and a kept statement must not keep
    the catalog of its day."""
    now = timezone.now()
    candidates = rows_compiled_once(
        f"releases.soon_for_staff:{user.pk}",
        lambda values: (
            ChangeItem.objects.filter(
                Q(engagement__manager=user) | Q(engagement__deputy=user),
                status__in=(ChangeItem.Status.PLANNED, ChangeItem.Status.SCHEDULED),
                scheduled_at__gt=values[0],
                scheduled_at__lte=values[1],
            )
            .order_by()
            .values("engagement_id")
        ),
        [now, now + SOON_HORIZON],
    )
    if not candidates:
        return []
    return unacknowledged_soon(sorted({row["engagement_id"] for row in candidates}), now=now)
