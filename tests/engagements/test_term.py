"""Outside its term (start and end dates) an engagement is read-only for customers: a named
contact raises no case, after-hours request or session on it (409 `engagement_not_active`, the
same refusal on pages and in the API), the dashboard card says why, the history stays visible,
and the staff keep working the items it holds."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from cases.casework.models import Case
from engagements.afterhours.models import AfterHoursRequest
from engagements.contracts.models import Engagement
from reviews.scheduling.models import Occurrence
from tests.conftest import page_client, signed_in
from tests.reviews.sessions import business_slot

pytestmark = pytest.mark.django_db


def ended(world, *, days_ago: int = 10) -> Engagement:
    engagement = world.a.objects["engagement"]
    today = engagement.local_today()
    engagement.start_date = today - timedelta(days=400)
    engagement.end_date = today - timedelta(days=days_ago)
    engagement.save()
    return engagement


def upcoming(world) -> Engagement:
    engagement = world.a.objects["engagement"]
    engagement.start_date = engagement.local_today() + timedelta(days=30)
    engagement.end_date = engagement.start_date + timedelta(days=365)
    engagement.save()
    return engagement


def weekend_window(engagement) -> tuple[datetime, datetime]:
    day = engagement.local_today() + timedelta(days=20)
    day += timedelta(days=(5 - day.weekday()) % 7)
    starts = datetime.combine(day, time(10), tzinfo=engagement.zone)
    return starts, starts + timedelta(hours=3)


def new_items(engagement) -> dict[str, dict]:
    starts, ends = weekend_window(engagement)
    return {
        "/api/v1/cases/": {
            "engagement": engagement.pk,
            "kind": "inquiry",
            "severity": 2,
            "subject": "Still there?",
        },
        "/api/v1/after-hours-requests/": {
            "engagement": engagement.pk,
            "starts_at": starts.isoformat(),
            "ends_at": ends.isoformat(),
            "reason": "Weekend migration",
        },
        "/api/v1/reviews/": {
            "engagement": engagement.pk,
            "deliverable": "upgrade_planning",
            "method": "video",
            "preferred_start": business_slot(engagement).isoformat(),
        },
    }


def assert_not_active(response, words: str) -> None:
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "engagement_not_active", body
    assert words in body["detail"], body


@pytest.mark.parametrize("when", ["ended", "upcoming"])
def test_a_contact_raises_nothing_new_outside_the_term(world, when):
    engagement = ended(world) if when == "ended" else upcoming(world)
    words = (
        f"ended on {date_format(engagement.end_date, 'DATE_FORMAT')}"
        if when == "ended"
        else f"starts on {date_format(engagement.start_date, 'DATE_FORMAT')}"
    )
    poc = signed_in(world.a.poc)
    for url, body in new_items(engagement).items():
        assert_not_active(poc.post(url, body, format="json"), words)
    assert not Case.objects.exists()
    assert not AfterHoursRequest.objects.exists()
    assert not Occurrence.objects.exists()


def test_within_the_term_the_same_requests_are_taken(world):
    engagement = world.a.objects["engagement"]
    engagement.start_date = engagement.local_today()  # the first and the last day count
    engagement.end_date = business_slot(engagement).date() + timedelta(days=30)
    engagement.save()
    poc = signed_in(world.a.poc)
    for url, body in new_items(engagement).items():
        response = poc.post(url, body, format="json")
        assert response.status_code == 201, (url, response.content)


def test_history_stays_visible_and_staff_keep_working_the_items(world):
    engagement = world.a.objects["engagement"]
    poc = signed_in(world.a.poc)
    raised = poc.post("/api/v1/cases/", new_items(engagement)["/api/v1/cases/"], format="json")
    assert raised.status_code == 201, raised.content
    ended(world)
    rows = poc.get("/api/v1/cases/").json()["results"]
    assert [row["id"] for row in rows] == [raised.json()["id"]]
    answer = signed_in(world.manager).post(
        f"/api/v1/cases/{raised.json()['id']}/respond/", {"body": "Done."}, format="json"
    )
    assert answer.status_code == 200, answer.content


def test_the_dashboard_card_says_why_and_offers_no_request(world):
    engagement = ended(world)
    body = page_client(world.a.poc).get(reverse("dashboard")).content.decode()
    assert f"This engagement ended on {date_format(engagement.end_date, 'DATE_FORMAT')}." in body
    assert "history stays visible" in body
    assert reverse("after_hours_list", args=[engagement.pk]) not in body
    assert reverse("occurrence_request") not in body
    member = page_client(world.a.member).get(reverse("dashboard")).content.decode()
    assert "This engagement ended on" in member

    engagement = upcoming(world)
    body = page_client(world.a.poc).get(reverse("dashboard")).content.decode()
    assert f"This engagement starts on {date_format(engagement.start_date, 'DATE_FORMAT')}." in body


def test_the_dashboard_card_says_it_in_korean(world):
    engagement = ended(world)
    poc = world.a.poc
    poc.language = "ko"
    poc.save()
    client = page_client(poc)
    body = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    with translation.override("ko"):
        day = date_format(engagement.end_date, "DATE_FORMAT")
    assert f"이 계약은 {day}에 종료되었습니다." in body


def test_the_pages_show_the_refusal(world):
    engagement = upcoming(world)
    client = page_client(world.a.poc)
    response = client.post(
        reverse("case_create"),
        {"engagement": engagement.pk, "kind": "inquiry", "severity": "2", "subject": "Early"},
    )
    assert response.status_code == 200
    assert "This engagement starts on" in response.content.decode()
    assert not Case.objects.exists()

    starts = weekend_window(engagement)[0]
    after_hours = client.get(reverse("after_hours_list", args=[engagement.pk])).content.decode()
    assert 'id="term-notice"' in after_hours and "Send request" not in after_hours
    response = client.post(
        reverse("after_hours_list", args=[engagement.pk]),
        {
            "day": starts.date().isoformat(),
            "starts": "10:00",
            "ends": "13:00",
            "reason": "Weekend migration",
        },
    )
    assert response.status_code == 200 and not AfterHoursRequest.objects.exists()

    response = client.post(
        reverse("occurrence_request"),
        {
            "engagement": engagement.pk,
            "deliverable": "upgrade_planning",
            "method": "video",
            "preferred_start": business_slot(engagement).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    assert "This engagement starts on" in response.content.decode()
    assert not Occurrence.objects.exists()
