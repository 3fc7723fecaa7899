"""Fixtures for cases: an engagement with a named contact, in a chosen zone; tenant A's cases
spread over three engagements (for paging across engagements)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import cycle
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from cases.casework.models import Case
from engagements.contacts.models import Contact
from tests.factories import EngagementFactory, MembershipFactory, plan


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def engagement_with_contact(
    plan_code: str = "premium", zone: str = "Europe/Berlin", country: str = ""
):
    engagement = EngagementFactory(plan=plan(plan_code), timezone=zone, holiday_country=country)
    contact = MembershipFactory(organization=engagement.organization).user
    Contact.objects.create(engagement=engagement, user=contact)
    return engagement, contact


@pytest.fixture
def premium():
    return engagement_with_contact("premium")


@pytest.fixture
def standard():
    return engagement_with_contact("standard")


@pytest.fixture
def spread_cases(world) -> Callable[..., list[int]]:
    """`spread_cases(count, closed_every=0)`: `count` cases of tenant A over its engagement and
    two more of its manager's (the first of those twice in each round), two raised at each time
    so ties of `received_at` cross engagements; new, but every `closed_every`-th from the first
    closed. Returns the ids of all of A's cases in the lists' default order (newest, then id)."""

    def spread(count: int, *, closed_every: int = 0) -> list[int]:
        first = world.a.objects["engagement"]
        others = [
            EngagementFactory(organization=world.a.organization, manager=world.manager)
            for _ in range(2)
        ]
        now = timezone.now().replace(microsecond=0)
        Case.objects.bulk_create(
            Case(
                engagement=engagement,
                kind="incident",
                subject=f"Spread {n}",
                status=Case.Status.CLOSED
                if closed_every and n % closed_every == 0
                else Case.Status.NEW,
                received_at=now - timedelta(minutes=n // 2),  # pairs share a time
                response_due_at=now + timedelta(days=1),
                reminder_due_at=now + timedelta(hours=18),
                raised_by=world.a.poc,
            )
            for n, engagement in zip(range(count), cycle([first, *others, others[0]]), strict=False)
        )
        return list(
            Case.objects.filter(engagement__organization=world.a.organization)
            .order_by("-received_at", "-id")
            .values_list("pk", flat=True)
        )

    return spread
