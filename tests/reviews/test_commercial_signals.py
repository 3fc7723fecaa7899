"""The weekly-hours budget and the overage flag ("additional contract recommended") are the
provider's: the engagement's staff and admins see them; customers see the hours delivered, on
the dashboard, the engagement and hours pages, the report page, its CSV and the API."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from engagements.time.models import OverageFlag, TimeEntry
from engagements.time.selectors import week_start
from reviews.scheduling.models import Occurrence
from tests.conftest import page_client, signed_in

BERLIN = ZoneInfo("Europe/Berlin")
SIGNALS = ("Over the cap", "over the cap", "Additional contract recommended", "Against the cap")

pytestmark = pytest.mark.django_db


def log_weeks(engagement, mondays, minutes: int = 11 * 60) -> None:
    for monday in mondays:
        TimeEntry.objects.create(
            engagement=engagement,
            manager=engagement.manager,
            date=monday,
            minutes=minutes,
            activity="call",
        )


@pytest.fixture
def over_cap_now(world):
    """World A's engagement: 11 hours in each of the last 4 full weeks, flagged."""
    engagement = world.a.objects["engagement"]
    current = week_start(engagement.local_today())
    log_weeks(engagement, [current - timedelta(weeks=n) for n in range(1, 5)])
    OverageFlag.objects.create(
        engagement=engagement, average_minutes=660, cap_minutes=600, last_average_minutes=660
    )
    return engagement


@pytest.fixture
def june_review(world):
    """The service review held on 1 July 2026 (it reports on June) of an engagement over its cap
    every week of June, flagged in June."""
    engagement = world.a.objects["engagement"]
    log_weeks(engagement, [date(2026, 6, 1) + timedelta(weeks=n) for n in range(4)])
    OverageFlag.objects.create(
        engagement=engagement,
        raised_at=datetime(2026, 6, 22, 9, tzinfo=BERLIN),
        average_minutes=660,
        cap_minutes=600,
        last_average_minutes=660,
    )
    return Occurrence.objects.create(
        engagement=engagement,
        deliverable="service_review",
        period="monthly:2026-07-01",
        scheduled_start=datetime(2026, 7, 1, 10, tzinfo=BERLIN),
        method="video",
    )


@pytest.mark.parametrize("role", ["poc", "member"])
def test_customers_see_hours_delivered_without_the_budget_signals(world, over_cap_now, role):
    client = page_client(world.user(role))
    for url in (
        reverse("dashboard"),
        reverse("engagement_detail", args=[over_cap_now.pk]),
        reverse("time_entries", args=[over_cap_now.pk]),
    ):
        response = client.get(url)
        if response.status_code == 403:  # a page the role may not open shows nothing at all
            continue
        body = response.content.decode()
        assert response.status_code == 200, url
        assert not [signal for signal in SIGNALS if signal in body], url
        assert "11 h" in body, url  # the hours delivered are there


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_the_provider_sees_the_budget_and_the_recommendation(world, over_cap_now, role):
    client = page_client(world.user(role))
    body = client.get(reverse("engagement_detail", args=[over_cap_now.pk])).content.decode()
    assert "Over the cap" in body and "Additional contract recommended" in body
    hours = client.get(reverse("time_entries", args=[over_cap_now.pk])).content.decode()
    assert "Over the cap" in hours and "Against the cap" in hours


@pytest.mark.parametrize("role", ["poc", "member"])
def test_a_customers_report_has_no_cap_and_no_recommendation(world, june_review, role):
    client = page_client(world.user(role))
    body = client.get(reverse("review_report", args=[june_review.pk])).content.decode()
    assert not [signal for signal in SIGNALS if signal in body]
    assert "Manager hours delivered" in body
    csv = client.get(reverse("review_report_csv", args=[june_review.pk])).content.decode()
    assert "hours_week" in csv
    assert "cap_hours" not in csv and "over_cap" not in csv and "overage_flag" not in csv
    data = signed_in(world.user(role)).get(f"/api/v1/reviews/{june_review.pk}/report/").json()
    assert data["data"]["overage_flags"] == []
    assert "cap_hours" not in data["data"]["hours"]
    assert all("over_cap" not in week for week in data["data"]["hours"]["weeks"])
    assert [week["hours"] for week in data["data"]["hours"]["weeks"]][:4] == [11.0] * 4


def test_the_managers_report_keeps_the_cap_and_the_recommendation(world, june_review):
    client = page_client(world.manager)
    body = client.get(reverse("review_report", args=[june_review.pk])).content.decode()
    assert "Additional contract recommended" in body and "Manager hours against the cap" in body
    csv = client.get(reverse("review_report_csv", args=[june_review.pk])).content.decode()
    assert "cap_hours" in csv and "overage_flag:1" in csv
    data = signed_in(world.manager).get(f"/api/v1/reviews/{june_review.pk}/report/").json()
    assert len(data["data"]["overage_flags"]) == 1 and data["data"]["hours"]["cap_hours"] == 10


def test_the_hours_api_gives_customers_the_hours_only(world, over_cap_now):
    url = f"/api/v1/engagements/{over_cap_now.pk}/hours/"
    customer = signed_in(world.a.poc).get(url).json()
    assert customer["average_minutes"] == 660
    assert customer["cap_minutes"] is None and customer["over_cap"] is None
    assert customer["overage_flag"] is None
    manager = signed_in(world.manager).get(url).json()
    assert manager["cap_minutes"] == 600 and manager["over_cap"] is True
    assert manager["overage_flag"] is not None
