"""The scheduler, reminders and misses — driven through the beat tasks."""

import itertools
import sys
import threading
from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from engagements.absences.services import absence_record
from engagements.contracts.services import engagement_holiday_add, engagement_update
from portal.notifications import Notification
from portal.tenancy.scoping import system_scope
from reviews.scheduling import reminders, scheduler, tasks
from reviews.scheduling.models import Occurrence, OccurrenceReminder
from tests.conftest import services_act_in_their_scope
from tests.factories import AdminFactory, EngagementFactory, plan


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 6, 1)  # a Monday
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=BERLIN)


@pytest.fixture
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


def make(plan_code, **kwargs):
    defaults = {
        "plan": plan(plan_code),
        "start_date": TODAY,
        "end_date": date(2027, 5, 31),
        "timezone": "Europe/Berlin",
        "holiday_country": "",
    }
    return EngagementFactory(**(defaults | kwargs))


def kinds(engagement):
    return Counter(
        Occurrence.objects.filter(engagement=engagement, status="scheduled").values_list(
            "deliverable", flat=True
        )
    )


@pytest.mark.django_db
def test_premium_and_standard_cadences_for_90_days_through_the_beat_job(frozen_now):
    premium, standard = make("premium"), make("standard")
    totals = tasks.schedule_all.apply().get()
    assert totals["engagements"] == 2
    # 90 days from Monday 2026-06-01: weeks start Jun 1 … Aug 24 (13), months Jun 1, Jul 1,
    # Aug 1 (3), quarters Jun 1 (1).
    assert kinds(premium) == {
        "weekly_call": 13,
        "customer_intelligence": 13,
        "service_review": 3,
        "product_roadmap": 3,
    }
    assert kinds(standard) == {
        "service_review": 1,
        "customer_intelligence": 1,
        "product_roadmap": 1,
    }
    assert set(
        Occurrence.objects.filter(engagement=premium, deliverable="service_review").values_list(
            "method", flat=True
        )
    ) == {"in_person"}
    by_day = {}
    for occurrence in Occurrence.objects.filter(engagement=premium):
        local = occurrence.scheduled_start.astimezone(BERLIN)
        assert local.weekday() < 5 and time(10, 0) <= local.time() < time(17, 0)
        assert local.date() <= TODAY + timedelta(days=90)
        by_day.setdefault(local.date(), []).append(occurrence)
    for sessions in by_day.values():  # back to back from 10:00, never two at once
        sessions.sort(key=lambda o: o.scheduled_start)
        assert sessions[0].scheduled_start.astimezone(BERLIN).time() == time(10, 0)
        for earlier, later in itertools.pairwise(sessions):
            assert later.scheduled_start == earlier.ends_at
    first_day = by_day[TODAY]
    assert [o.deliverable for o in sorted(first_day, key=lambda o: o.scheduled_start)][:2] == [
        "weekly_call",
        "service_review",
    ]
    again = tasks.schedule_all.apply().get()
    assert again["created"] == 0 and again["moved"] == 0 and again["cancelled"] == 0


@pytest.mark.django_db
def test_off_weekends_holidays_and_absences_and_never_past_the_end(frozen_now):
    # August 1 2026 is a Saturday: the monthly review moves to Monday August 3.
    engagement = make("premium", end_date=date(2026, 8, 20))
    engagement_holiday_add(
        acting_user=engagement.manager,
        engagement=engagement,
        day=date(2026, 7, 1),
        name="Company day",
    )
    absence_record(
        acting_user=engagement.manager,
        manager=engagement.manager,
        kind="vacation",
        starts_at=datetime(2026, 6, 8, tzinfo=BERLIN),
        ends_at=datetime(2026, 6, 10, tzinfo=BERLIN),
    )
    scheduler.schedule_engagement(engagement)
    reviews = sorted(
        Occurrence.objects.filter(engagement=engagement, deliverable="service_review").values_list(
            "scheduled_start", flat=True
        )
    )
    assert [start.astimezone(BERLIN).date() for start in reviews] == [
        date(2026, 6, 1),
        date(2026, 7, 2),
        date(2026, 8, 3),
    ]
    calls = [
        start.astimezone(BERLIN).date()
        for start in sorted(
            Occurrence.objects.filter(engagement=engagement, deliverable="weekly_call").values_list(
                "scheduled_start", flat=True
            )
        )
    ]
    assert date(2026, 6, 10) in calls and date(2026, 6, 8) not in calls  # moved off the absence
    assert max(calls) <= date(2026, 8, 20)


@pytest.mark.django_db
def test_plan_change_reschedules_the_cadence_and_cancels_what_the_new_plan_lacks(frozen_now):
    admin = AdminFactory()
    engagement = make("standard")
    scheduler.schedule_engagement(engagement)
    assert kinds(engagement)["service_review"] == 1
    engagement_update(acting_user=admin, engagement=engagement, plan=plan("premium"))
    scheduler.schedule_engagement(engagement)
    assert kinds(engagement) == {
        "weekly_call": 13,
        "customer_intelligence": 13,
        "service_review": 3,
        "product_roadmap": 3,
    }
    cancelled = Occurrence.objects.filter(engagement=engagement, status="cancelled")
    assert set(cancelled.values_list("period", flat=True)) == {
        "quarterly:2026-06-01"
    }  # the quarterly items; the new monthly ones replace them
    engagement_update(acting_user=admin, engagement=engagement, plan=plan("standard"))
    scheduler.schedule_engagement(engagement)
    assert kinds(engagement) == {
        "service_review": 1,
        "customer_intelligence": 1,
        "product_roadmap": 1,
    }


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_create_nothing_twice(require_postgres, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    engagement = make("premium")
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            with system_scope("concurrent scheduler test"):
                barrier.wait()
                scheduler.schedule_engagement(engagement)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Occurrence.objects.filter(engagement=engagement).count() == 32


@pytest.mark.django_db
def test_reminder_one_business_day_before_exactly_once_and_misses(frozen_now, monkeypatch):
    engagement = make("premium")
    scheduler.schedule_engagement(engagement)
    # Monday June 8 10:00 is reminded from Friday June 5 10:00.
    target = Occurrence.objects.get(
        engagement=engagement, deliverable="weekly_call", period="weekly:2026-06-08"
    )
    friday = datetime(2026, 6, 5, 10, 1, tzinfo=BERLIN)
    assert reminders.send_due_reminders(datetime(2026, 6, 5, 9, 59, tzinfo=BERLIN)) >= 0
    assert not OccurrenceReminder.objects.filter(occurrence=target).exists()
    reminders.send_due_reminders(friday)
    reminders.send_due_reminders(friday)
    assert OccurrenceReminder.objects.filter(occurrence=target).count() == 1
    notified = Notification.objects.filter(dedupe_key__startswith=f"occurrence:{target.pk}:")
    assert {n.user_id for n in notified} >= {engagement.manager.pk, engagement.deputy.pk}
    assert notified.count() == len({n.user_id for n in notified})
    # Not completed by its end plus 24 hours: missed, once.
    later = datetime(2026, 6, 9, 11, 0, tzinfo=BERLIN)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    assert tasks.remind_and_mark_missed.apply().get()["missed"] >= 2
    target.refresh_from_db()
    assert target.status == "missed"
    assert reminders.mark_missed(later) == 0


def test_period_starts_are_anchored_on_the_term_start():
    starts = list(scheduler.period_starts("monthly", date(2026, 1, 31), date(2026, 5, 31)))
    assert starts == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    assert list(scheduler.period_starts("quarterly", date(2026, 1, 15), date(2026, 12, 31))) == [
        date(2026, 1, 15),
        date(2026, 4, 15),
        date(2026, 7, 15),
        date(2026, 10, 15),
    ]
    assert timezone.now().tzinfo is not None
