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
from engagements.catalog import services as catalog_services
from engagements.catalog.models import Entitlement, ServiceFunction
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


def local_sessions(engagement, zone=BERLIN):
    """(local start, local end, deliverable) of the engagement's scheduled sessions, in order."""
    return [
        (o.scheduled_start.astimezone(zone), o.ends_at.astimezone(zone), o.deliverable)
        for o in Occurrence.objects.filter(engagement=engagement, status="scheduled").order_by(
            "scheduled_start"
        )
    ]


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


MORNINGS = [["08:00", "11:00"]] * 5 + [None, None]


@pytest.mark.django_db
def test_sessions_lie_wholly_inside_business_hours_and_the_rest_moves_to_the_next_day(
    frozen_now,
):
    """Agreed hours 08:00-11:00: the day's stack from the 10:00 meeting time stops at closing;
    what does not fit moves to the next business day, off holidays and absences."""
    engagement = make("premium", business_hours=MORNINGS)
    engagement_holiday_add(
        acting_user=engagement.manager, engagement=engagement, day=date(2026, 6, 2), name="Day"
    )
    absence_record(
        acting_user=engagement.manager,
        manager=engagement.manager,
        kind="vacation",
        starts_at=at(date(2026, 6, 4), 0),
        ends_at=at(date(2026, 6, 5), 0),
    )
    scheduler.schedule_engagement(engagement)
    sessions = local_sessions(engagement)
    assert sessions[:4] == [
        (at(TODAY, 10), at(TODAY, 10, 30), "weekly_call"),
        # 10:30-11:30 would pass closing; Tuesday is a holiday, Thursday the manager is away.
        (at(date(2026, 6, 3), 10), at(date(2026, 6, 3), 11), "service_review"),
        (at(date(2026, 6, 5), 10), at(date(2026, 6, 5), 10, 45), "customer_intelligence"),
        (at(date(2026, 6, 8), 10), at(date(2026, 6, 8), 10, 30), "weekly_call"),
    ]
    assert len(sessions) == 32  # every period keeps its session
    for earlier, later in itertools.pairwise(sessions):
        assert earlier[1] <= later[0]  # never two at once
    for start, end, _kind in sessions:
        assert start.weekday() < 5 and start.date() not in (date(2026, 6, 2), date(2026, 6, 4))
        assert time(8) <= start.time() and end.time() <= time(11) and end.date() == start.date()
    again = scheduler.schedule_engagement(engagement)
    assert (again.created, again.moved, again.cancelled) == (0, 0, 0)


@pytest.mark.django_db
def test_a_session_that_cannot_fit_after_the_meeting_time_starts_earlier(frozen_now):
    engagement = make("standard", business_hours=MORNINGS, review_slot=time(10, 30))
    scheduler.schedule_engagement(engagement)
    assert local_sessions(engagement) == [
        (at(TODAY, 10), at(TODAY, 11), "service_review"),
        (at(date(2026, 6, 2), 10, 15), at(date(2026, 6, 2), 11), "customer_intelligence"),
        (at(date(2026, 6, 3), 10, 15), at(date(2026, 6, 3), 11), "product_roadmap"),
    ]


@pytest.mark.django_db
def test_an_engagement_created_after_its_start_gets_the_current_period(monkeypatch):
    """Created on Thursday December 10 at 14:00, its term began on Tuesday December 1: the
    December review and this week's call take the next slot, Friday 10:00."""
    created = at(date(2026, 12, 10), 14)
    monkeypatch.setattr("django.utils.timezone.now", lambda: created)
    engagement = make("premium", start_date=date(2026, 12, 1), end_date=date(2027, 11, 30))
    scheduler.schedule_engagement(engagement)
    friday = date(2026, 12, 11)
    first = {
        (o.deliverable, o.period): o.scheduled_start.astimezone(BERLIN)
        for o in Occurrence.objects.filter(engagement=engagement, scheduled_start__date=friday)
    }
    assert first == {
        ("weekly_call", "weekly:2026-12-08"): at(friday, 10),
        ("service_review", "monthly:2026-12-01"): at(friday, 10, 30),
        ("customer_intelligence", "weekly:2026-12-08"): at(friday, 11, 30),
        ("product_roadmap", "monthly:2026-12-01"): at(friday, 12, 15),
    }
    # The next morning's daily run agrees: nothing created, moved or cancelled.
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(friday, 6))
    assert tasks.schedule_all.apply().get()["created"] == 0
    again = scheduler.schedule_engagement(engagement)
    assert (again.created, again.moved, again.cancelled) == (0, 0, 0)


@pytest.mark.django_db
def test_a_period_with_no_business_day_left_after_the_creation_is_not_scheduled(monkeypatch):
    """Created on Friday December 11 after the meeting time, weeks beginning on Mondays: this
    week has no slot left (Monday begins the next one); the month has, on Monday."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(date(2026, 12, 11), 14))
    engagement = make("premium", start_date=date(2026, 11, 30), end_date=date(2027, 11, 28))
    scheduler.schedule_engagement(engagement)
    periods = set(
        Occurrence.objects.filter(engagement=engagement).values_list("deliverable", "period")
    )
    assert ("weekly_call", "weekly:2026-12-07") not in periods
    assert ("weekly_call", "weekly:2026-12-14") in periods
    review = Occurrence.objects.get(
        engagement=engagement, deliverable="service_review", period="monthly:2026-11-30"
    )
    assert review.scheduled_start.astimezone(BERLIN).date() == date(2026, 12, 14)


@pytest.mark.django_db
def test_a_session_moved_past_the_start_of_the_next_day_is_kept_by_the_next_days_run(
    frozen_now, monkeypatch
):
    """The manager is away Monday to Wednesday: this week's call moves to Thursday. Tuesday's
    run still counts the week (begun on Monday) and keeps the call."""
    engagement = make("premium")
    absence_record(
        acting_user=engagement.manager,
        manager=engagement.manager,
        kind="vacation",
        starts_at=at(TODAY, 0),
        ends_at=at(date(2026, 6, 4), 0),
    )
    scheduler.schedule_engagement(engagement)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(date(2026, 6, 2), 6))
    again = scheduler.schedule_engagement(engagement)
    assert (again.moved, again.cancelled) == (0, 0)  # created: the horizon's new last week
    call = Occurrence.objects.get(
        engagement=engagement, deliverable="weekly_call", period="weekly:2026-06-01"
    )
    assert call.status == "scheduled"
    assert call.scheduled_start.astimezone(BERLIN) == at(date(2026, 6, 4), 10)


@pytest.mark.django_db
def test_a_change_of_the_plans_cadence_matrix_or_call_reschedules_its_engagements_at_once(
    frozen_now, django_capture_on_commit_callbacks
):
    """Through the catalog's services (the admin grid), committed: no scheduler run between."""
    admin = AdminFactory()
    engagement = make("standard")
    scheduler.schedule_engagement(engagement)
    assert kinds(engagement)["service_review"] == 1
    review = ServiceFunction.objects.get(code="service_review")
    standard = plan("standard")
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.cadence_set(
            acting_user=admin,
            plan=standard,
            deliverable=review,
            methods=["video"],
            frequency="monthly",
        )
    assert kinds(engagement)["service_review"] == 3  # June, July, August
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.entitlement_matrix_set(
            acting_user=admin,
            cells=Entitlement.objects.exclude(plan=standard, function=review).values_list(
                "plan_id", "function_id"
            ),
        )
    assert kinds(engagement)["service_review"] == 0  # the plan no longer includes reviews
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.plan_save(acting_user=admin, plan=standard, weekly_call=True)
    assert kinds(engagement)["weekly_call"] == 13


def test_the_scheduler_follows_changes_in_every_process():
    """The web process imports no tasks module by itself: the receivers that schedule after an
    engagement or plan change are connected when Django starts."""
    import os
    import subprocess

    code = (
        "import django; django.setup()\n"
        "from engagements.signals import engagement_changed, plan_changed\n"
        "print(len(engagement_changed.receivers), len(plan_changed.receivers))\n"
    )
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "portal.settings"}
    found = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["2", "1"]  # cases' receiver and the scheduler's; the scheduler


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
