"""Fixtures for cases: an engagement with a named contact, in a chosen zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

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
