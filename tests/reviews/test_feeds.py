"""Calendar feeds: the token is the credential, only its hash is stored, each user sees only
their own engagements' occurrences, and times are correct instants in UTC."""

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from reviews.feeds.models import CalendarFeed
from reviews.feeds.services import calendar_feed_create
from reviews.scheduling.models import Occurrence
from tests.conftest import page_client
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")


def local(days_ahead: int, zone: ZoneInfo, hour: int = 10) -> datetime:
    """`hour` o'clock in `zone`, `days_ahead` days from today."""
    day = timezone.now().astimezone(zone).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour), tzinfo=zone)


def make_occurrence(engagement, start: datetime, *, deliverable="service_review", **fields):
    return Occurrence.objects.create(
        engagement=engagement,
        deliverable=deliverable,
        period=fields.pop("period", f"monthly:{start.isoformat()}"),
        scheduled_start=start,
        method=fields.pop("method", "video"),
        **fields,
    )


def feed_url(user) -> str:
    _feed, token = calendar_feed_create(acting_user=user)
    return reverse("calendar_feed_ics", kwargs={"token": token})


def fetch(url: str) -> Calendar:
    response = Client().get(url)  # no session: the token is the credential
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def events(calendar: Calendar) -> dict[str, object]:
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def uid(occurrence) -> str:
    return f"occurrence-{occurrence.pk}@{urlsplit(settings.SITE_URL).hostname}"


# --- Who sees what -----------------------------------------------------------------------------


def test_poc_sees_only_their_engagements(world):
    mine = make_occurrence(world.a.objects["engagement"], local(7, BERLIN))
    theirs = make_occurrence(world.b.objects["engagement"], local(7, BERLIN))
    calendar = fetch(feed_url(world.a.poc))
    found = events(calendar)
    assert set(found) == {uid(mine)}
    event = found[uid(mine)]
    assert event.decoded("dtstart") == mine.scheduled_start
    assert event.decoded("dtend") == mine.scheduled_start + timedelta(minutes=60)
    assert "Engagement A" in str(event["summary"]) and "Service review" in str(event["summary"])
    assert "Video conference" in str(event["description"])
    assert f"/reviews/{mine.pk}/" in str(event["description"])
    assert str(event["status"]) == "CONFIRMED"
    assert "Engagement B" not in calendar.to_ical().decode()
    assert uid(theirs) not in calendar.to_ical().decode()


def test_manager_sees_what_they_serve_and_admins_only_theirs_too(world):
    a = make_occurrence(world.a.objects["engagement"], local(3, BERLIN))
    b = make_occurrence(world.b.objects["engagement"], local(3, BERLIN))
    assert set(events(fetch(feed_url(world.manager)))) == {uid(a)}
    assert set(events(fetch(feed_url(world.other_manager)))) == {uid(b)}
    # Admins see every tenant in the portal, but their calendar holds only their own work.
    assert events(fetch(feed_url(world.admin))) == {}
    managed = EngagementFactory(
        organization=world.b.organization, manager=world.admin, name="Admin's own"
    )
    own = make_occurrence(managed, local(5, BERLIN))
    assert set(events(fetch(feed_url(world.admin)))) == {uid(own)}


def test_window_and_statuses(world):
    engagement = world.a.objects["engagement"]
    kept = {
        "past": make_occurrence(engagement, local(-20, BERLIN), status="completed"),
        "soon": make_occurrence(engagement, local(2, BERLIN)),
        "later": make_occurrence(engagement, local(170, BERLIN)),
        "cancelled": make_occurrence(engagement, local(4, BERLIN), status="cancelled"),
    }
    make_occurrence(engagement, local(-40, BERLIN))
    make_occurrence(engagement, local(200, BERLIN))
    make_occurrence(engagement, local(-2, BERLIN), status="missed")
    found = events(fetch(feed_url(world.a.poc)))
    assert set(found) == {uid(occurrence) for occurrence in kept.values()}
    assert str(found[uid(kept["cancelled"])]["status"]) == "CANCELLED"
    assert str(found[uid(kept["past"])]["status"]) == "CONFIRMED"


def test_seoul_and_berlin_are_right_in_utc(world):
    seoul = EngagementFactory(
        organization=world.a.organization, manager=world.manager, timezone="Asia/Seoul"
    )
    berlin = world.a.objects["engagement"]
    in_seoul = make_occurrence(seoul, local(10, SEOUL))
    in_berlin = make_occurrence(berlin, local(10, BERLIN))
    response = Client().get(feed_url(world.manager))
    raw = response.content.decode()
    found = events(Calendar.from_ical(response.content))
    for occurrence, zone in ((in_seoul, SEOUL), (in_berlin, BERLIN)):
        start = found[uid(occurrence)].decoded("dtstart")
        assert start == occurrence.scheduled_start
        assert start.utcoffset() == timedelta(0)
        assert start.astimezone(zone).hour == 10
        assert f"DTSTART:{occurrence.scheduled_start.astimezone(UTC):%Y%m%dT%H%M%SZ}" in raw
    # 10:00 in Seoul is 01:00 UTC all year (no daylight saving time).
    assert found[uid(in_seoul)].decoded("dtstart").hour == 1


def test_uids_are_stable_across_fetches(world):
    occurrence = make_occurrence(world.a.objects["engagement"], local(3, BERLIN))
    url = feed_url(world.a.poc)
    assert set(events(fetch(url))) == set(events(fetch(url))) == {uid(occurrence)}


# --- The token ---------------------------------------------------------------------------------


def test_token_is_stored_only_hashed(world):
    feed, token = calendar_feed_create(acting_user=world.a.poc)
    assert len(token) >= 40
    feed.refresh_from_db()
    assert feed.token_hash == CalendarFeed.hash(token) != token
    assert not CalendarFeed.objects.filter(token_hash=token).exists()
    for row in CalendarFeed.objects.values():
        assert token not in str(row)


def test_unknown_token_is_404():
    assert Client().get(reverse("calendar_feed_ics", kwargs={"token": "nope"})).status_code == 404
    assert Client().get("/calendar/" + "x" * 500 + ".ics").status_code == 404


def test_revoke_and_regenerate_pages(world):
    make_occurrence(world.a.objects["engagement"], local(3, BERLIN))
    client = page_client(world.a.poc)
    page = client.get(reverse("calendar_feed"))
    assert page.status_code == 200 and b"no active calendar feed" in page.content

    response = client.post(reverse("calendar_feed_new"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    first = re.search(r'id="feed-url">([^<]+)<', response.content.decode()).group(1)
    assert first.startswith("http://testserver/calendar/") and first.endswith(".ics")
    assert len(events(fetch(first))) == 1
    # The URL is shown once: the page does not show it again.
    assert first.encode() not in client.get(reverse("calendar_feed")).content

    response = client.post(reverse("calendar_feed_new"))
    second = re.search(r'id="feed-url">([^<]+)<', response.content.decode()).group(1)
    assert second != first
    assert Client().get(first).status_code == 404
    assert len(events(fetch(second))) == 1
    assert CalendarFeed.objects.filter(user=world.a.poc, revoked_at__isnull=True).count() == 1

    response = client.post(reverse("calendar_feed_revoke"))
    assert response.status_code == 302
    assert Client().get(second).status_code == 404
    assert not CalendarFeed.objects.filter(user=world.a.poc, revoked_at__isnull=True).exists()


def test_pages_need_a_signed_in_user_and_post(world):
    anonymous = Client()
    assert anonymous.get(reverse("calendar_feed")).status_code == 302
    assert anonymous.post(reverse("calendar_feed_new")).status_code == 302
    assert not CalendarFeed.objects.exists()
    assert page_client(world.a.poc).get(reverse("calendar_feed_new")).status_code == 405


def test_inactive_user_or_membership_sees_nothing(world):
    make_occurrence(world.a.objects["engagement"], local(3, BERLIN))
    url = feed_url(world.a.poc)
    world.a.poc.memberships.update(is_active=False)
    assert events(fetch(url)) == {}
    type(world.a.poc).objects.filter(pk=world.a.poc.pk).update(is_active=False)
    assert Client().get(url).status_code == 404


def test_last_fetch_is_recorded_at_most_once_a_minute(world):
    url = feed_url(world.a.poc)
    fetch(url)
    feed = CalendarFeed.objects.get(user=world.a.poc, revoked_at__isnull=True)
    first = feed.last_fetched_at
    assert first is not None
    fetch(url)
    feed.refresh_from_db()
    assert feed.last_fetched_at == first
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=first - timedelta(minutes=2))
    fetch(url)
    feed.refresh_from_db()
    assert feed.last_fetched_at > first - timedelta(minutes=2)


def test_dated_service_functions_are_in_the_feed_where_entitled(world):
    """Changes, upgrade milestones and risk reviews of A's Premium engagement appear in A's
    PoC's feed; B's (whose Standard plan lacks risk mitigation) never do."""
    from datetime import date

    from cases.risks.models import Risk
    from engagements.upgrades.models import UpgradeMilestone, UpgradePlan
    from reviews.releases.models import ChangeItem

    a, b = world.a.objects["engagement"], world.b.objects["engagement"]
    soon = timezone.now() + timedelta(days=5)
    review_day = (timezone.now() + timedelta(days=9)).date()
    for engagement in (a, b):
        ChangeItem.objects.create(
            engagement=engagement,
            title=f"Patch {engagement.pk}",
            kind="software",
            scheduled_at=soon,
            created_by=engagement.manager,
        )
        plan_ = UpgradePlan.objects.create(
            engagement=engagement,
            current_version="1",
            target_version="2",
            created_by=engagement.manager,
        )
        UpgradeMilestone.objects.create(
            plan=plan_, title=f"Cutover {engagement.pk}", due_date=review_day
        )
        Risk.objects.create(
            engagement=engagement,
            title=f"Disk {engagement.pk}",
            likelihood=3,
            impact=4,
            score=12,
            next_review_date=review_day,
            created_by=engagement.manager,
        )
    found = events(fetch(feed_url(world.a.poc)))
    assert f"change-{ChangeItem.objects.get(engagement=a).pk}@" in " ".join(found)
    milestone = UpgradeMilestone.objects.get(plan__engagement=a)
    assert any(key.startswith(f"upgrade-milestone-{milestone.pk}@") for key in found)
    risk = Risk.objects.get(engagement=a)
    risk_key = next(key for key in found if key.startswith(f"risk-review-{risk.pk}-"))
    assert found[risk_key]["dtstart"].dt == review_day and isinstance(
        found[risk_key]["dtstart"].dt, date
    )
    for model, field in ((ChangeItem, "engagement"), (Risk, "engagement")):
        foreign = model.objects.get(**{field: b})
        assert not any(
            f"-{foreign.pk}@" in key and key.startswith(("change", "risk")) for key in found
        )
