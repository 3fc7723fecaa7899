"""The full scheduler run (the daily job): prefetched reads, engagements already in line passed
over without a transaction, and the same outcome as scheduling each engagement on its own."""

import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagements.absences.services import absence_record
from engagements.contracts.services import engagement_holiday_add, engagement_update
from reviews.scheduling import scheduler
from reviews.scheduling.models import Occurrence
from tests.conftest import services_act_in_their_scope
from tests.factories import AdminFactory, EngagementFactory, ManagerFactory, plan

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 6, 1)  # a Monday
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=BERLIN)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def make(plan_code, **kwargs):
    defaults = {
        "plan": plan(plan_code),
        "start_date": TODAY,
        "end_date": date(2027, 5, 31),
        "timezone": "Europe/Berlin",
        "holiday_country": "",
    }
    return EngagementFactory(**(defaults | kwargs))


def state(engagement):
    return sorted(
        Occurrence.objects.filter(engagement=engagement).values_list(
            "deliverable", "period", "status", "scheduled_start"
        )
    )


def test_a_run_matches_scheduling_each_engagement_alone():
    admin = AdminFactory()
    absent_manager = ManagerFactory()
    premium = make("premium", manager=absent_manager)
    standard = make("standard")
    changing = make("standard")
    totals = scheduler.schedule_all(TODAY)
    assert totals.engagements == 3 and totals.created == 32 + 3 + 3
    # Changes after the first run: an absence, an added holiday, a plan change.
    absence_record(
        acting_user=absent_manager,
        manager=absent_manager,
        kind="vacation",
        starts_at=datetime(2026, 6, 8, tzinfo=BERLIN),
        ends_at=datetime(2026, 6, 10, tzinfo=BERLIN),
    )
    engagement_holiday_add(acting_user=admin, engagement=standard, day=TODAY, name="Company day")
    engagement_update(acting_user=admin, engagement=changing, plan=plan("premium"))
    again = scheduler.schedule_all(TODAY)
    assert again.engagements == 3
    assert again.moved >= 2 + 3  # two sessions off the absence, the standard's three items
    # The quarterly items give way to the monthly and weekly ones of the new plan.
    assert again.cancelled == 3 and again.created == 32
    # Each engagement on its own now finds nothing left to do.
    for engagement in (premium, standard, changing):
        before = state(engagement)
        result = scheduler.schedule_engagement(engagement)
        assert (result.created, result.moved, result.cancelled) == (0, 0, 0)
        assert state(engagement) == before
    assert scheduler.schedule_all(TODAY) == scheduler.ScheduleResult(engagements=3)


def test_a_repeat_run_costs_the_same_few_queries_for_2_or_6_engagements():
    for _n in range(2):
        make("premium")
    scheduler.schedule_all(TODAY)
    with CaptureQueriesContext(connection) as two:
        assert scheduler.schedule_all(TODAY).engagements == 2
    for _n in range(4):
        make("premium")
    scheduler.schedule_all(TODAY)
    with CaptureQueriesContext(connection) as six:
        result = scheduler.schedule_all(TODAY)
    assert result == scheduler.ScheduleResult(engagements=6)
    assert len(six) == len(two) <= 6


def test_an_engagement_changed_after_the_run_read_it_is_scheduled_as_it_is_now():
    admin = AdminFactory()
    engagement = make("standard")
    stale = type(engagement).objects.select_related("plan").get(pk=engagement.pk)
    prefetched = scheduler.prefetch([stale], TODAY)
    prefetched.desired[stale.pk] = (
        (TODAY, scheduler.HORIZON_DAYS),
        scheduler.desired_occurrences(stale, TODAY, scheduler.HORIZON_DAYS, prefetched),
    )
    engagement_update(acting_user=admin, engagement=engagement, plan=plan("premium"))
    result = scheduler.schedule_engagement(stale, prefetched=prefetched)
    assert result.created == 32  # the premium cadences, not the stale standard ones
    assert not Occurrence.objects.filter(engagement=engagement, period__startswith="quarterly:")
