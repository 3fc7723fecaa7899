"""A customer's session request lies in business time (SPEC §4: weekends and holidays only by
prior request) and in the manager's presence, or the deputy's; else a 400 naming why."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.urls import reverse

from engagements.absences.models import Absence
from engagements.afterhours.models import AfterHoursRequest
from reviews.scheduling.models import Occurrence
from tests.conftest import page_client, signed_in
from tests.reviews.sessions import business_day, business_slot, local, next_weekday

pytestmark = pytest.mark.django_db
SATURDAY, SUNDAY = 5, 6


def engagement_of(world):
    return world.a.objects["engagement"]


def payload(engagement, start, **changes):
    return {
        "engagement": engagement.pk,
        "deliverable": "upgrade_planning",
        "method": "video",
        "preferred_start": start.isoformat(),
        "note": "Plan the upgrade",
        **changes,
    }


def post(user, body):
    return signed_in(user).post("/api/v1/reviews/", body, format="json")


def refused(response, code: str) -> dict:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"} and body["code"] == code, body
    assert body["fields"]["preferred_start"], body
    return body


def christmas(engagement) -> date:
    today = engagement.local_today()
    day = date(today.year, 12, 25)
    return day if day > today + timedelta(days=1) else date(today.year + 1, 12, 25)


def test_saturday_sunday_night_christmas_and_edges_of_the_hours_are_refused(world):
    engagement = engagement_of(world)  # Europe/Berlin, Mon-Fri 09:00-17:00, German holidays
    saturday = local(engagement, next_weekday(engagement, SATURDAY), time(10))
    body = refused(post(world.a.poc, payload(engagement, saturday)), "not_a_business_day")
    assert reverse("after_hours_list", args=[engagement.pk]) in body["detail"]
    sunday_night = local(engagement, next_weekday(engagement, SUNDAY), time(22))
    refused(post(world.a.poc, payload(engagement, sunday_night)), "not_a_business_day")
    refused(
        post(world.a.poc, payload(engagement, local(engagement, christmas(engagement), time(3)))),
        "holiday",
    )
    day = business_day(engagement)
    # Wholly inside: a session starting 16:30 runs past 17:00; one at 08:30 starts too early.
    body = refused(
        post(world.a.poc, payload(engagement, local(engagement, day, time(16, 30)))),
        "outside_business_hours",
    )
    assert "09:00–17:00" in body["fields"]["preferred_start"][0]
    refused(
        post(world.a.poc, payload(engagement, local(engagement, day, time(8, 30)))),
        "outside_business_hours",
    )
    assert not Occurrence.objects.exists()
    # The last hour of the day fits.
    response = post(world.a.poc, payload(engagement, local(engagement, day, time(16))))
    assert response.status_code == 201, response.content
    assert response.json()["host"] == engagement.manager_id


def test_an_approved_after_hours_window_admits_a_weekend_session(world):
    engagement = engagement_of(world)
    saturday = next_weekday(engagement, SATURDAY)
    window = AfterHoursRequest.objects.create(
        engagement=engagement,
        requested_by=world.a.poc,
        starts_at=local(engagement, saturday, time(9)),
        ends_at=local(engagement, saturday, time(13)),
        reason="Cut-over",
    )
    start = local(engagement, saturday, time(10))
    refused(post(world.a.poc, payload(engagement, start)), "not_a_business_day")  # pending
    window.status = AfterHoursRequest.Status.APPROVED
    window.save()
    response = post(world.a.poc, payload(engagement, start))
    assert response.status_code == 201, response.content
    # Only inside the window: 12:30 runs past its end.
    refused(
        post(world.a.poc, payload(engagement, local(engagement, saturday, time(12, 30)))),
        "not_a_business_day",
    )


def test_the_deputy_hosts_while_the_manager_is_away_and_neither_absent_is_refused(world):
    engagement = engagement_of(world)
    start = business_slot(engagement)
    Absence.objects.create(
        manager=engagement.manager,
        kind=Absence.Kind.VACATION,
        starts_at=start - timedelta(days=1),
        ends_at=start + timedelta(minutes=30),  # away for part of the session is away
    )
    response = post(world.a.poc, payload(engagement, start))
    assert response.status_code == 201, response.content
    assert response.json()["host"] == engagement.deputy_id
    detail = page_client(world.a.poc).get(
        reverse("occurrence_detail", args=[response.json()["id"]])
    )
    assert 'id="session-host"' in detail.content.decode()
    assert str(engagement.deputy) in detail.content.decode()

    Absence.objects.create(
        manager=engagement.deputy,
        kind=Absence.Kind.TRAINING,
        starts_at=start - timedelta(hours=1),
        ends_at=start + timedelta(hours=2),
    )
    body = refused(post(world.a.poc, payload(engagement, start)), "manager_absent")
    assert "vacation" not in body["detail"].lower()  # the reason for the absence stays private
    assert Occurrence.objects.count() == 1


def test_staff_may_place_a_session_outside_business_hours(world):
    engagement = engagement_of(world)
    saturday = local(engagement, next_weekday(engagement, SATURDAY), time(10))
    response = post(world.manager, payload(engagement, saturday))
    assert response.status_code == 201, response.content


def test_a_session_after_the_term_is_refused(world):
    engagement = engagement_of(world)
    engagement.end_date = business_day(engagement, days_ahead=3)
    engagement.save()
    late = business_slot(engagement, days_ahead=20)
    body = refused(post(world.a.poc, payload(engagement, late)), "validation_error")
    assert "choose a time within its term" in body["fields"]["preferred_start"][0]


def test_the_page_shows_why_and_offers_the_after_hours_request(world):
    engagement = engagement_of(world)
    saturday = next_weekday(engagement, SATURDAY)
    response = page_client(world.a.poc).post(
        reverse("occurrence_request"),
        {
            "engagement": engagement.pk,
            "deliverable": "upgrade_planning",
            "method": "video",
            "preferred_start": f"{saturday.isoformat()}T10:00",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "is not a business day of the engagement" in body
    assert 'id="after-hours-offer"' in body
    assert f'href="{reverse("after_hours_list", args=[engagement.pk])}"' in body
    assert not Occurrence.objects.exists()
