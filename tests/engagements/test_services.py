"""Engagement rules: contacts and their limit (also under concurrency), absences and the
responsible manager, after-hours requests, time entries and the overage flag."""

import sys
import threading
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from engagements.absences import services as absences_services
from engagements.absences.selectors import responsible_manager
from engagements.afterhours import services as afterhours_services
from engagements.afterhours.models import AfterHoursRequest
from engagements.contacts import selectors as contacts_selectors
from engagements.contacts import services as contacts_services
from engagements.contacts.models import Contact
from engagements.contacts.services import ContactLimitReached
from engagements.contracts import services as contracts_services
from engagements.contracts.models import Engagement
from engagements.selectors import engagement_calendar
from engagements.time import services as time_services
from engagements.time.models import OverageFlag, TimeEntry
from engagements.time.selectors import hours_summary
from engagements.time.tasks import evaluate_overages
from portal.audit import AuditEntry
from portal.errors import DomainError, InvalidInput
from portal.notifications import Notification
from portal.tenancy.scoping import system_scope
from tests.conftest import services_act_in_their_scope
from tests.factories import (
    AdminFactory,
    EngagementFactory,
    ManagerFactory,
    MembershipFactory,
    UserFactory,
    plan,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def engagement():
    return EngagementFactory()


def people(engagement, count):
    return [MembershipFactory(organization=engagement.organization).user for _ in range(count)]


# --- Engagements -------------------------------------------------------------------------------


def test_engagement_rules(admin, engagement):
    with pytest.raises(InvalidInput) as excinfo:
        contracts_services.engagement_update(
            acting_user=admin, engagement=engagement, deputy=engagement.manager
        )
    assert "deputy" in excinfo.value.fields
    customer = UserFactory()
    with pytest.raises(InvalidInput) as excinfo:
        contracts_services.engagement_update(
            acting_user=admin, engagement=engagement, manager=customer
        )
    assert "manager" in excinfo.value.fields
    with pytest.raises(InvalidInput) as excinfo:
        contracts_services.engagement_update(
            acting_user=admin,
            engagement=engagement,
            end_date=date(2025, 1, 1),
            timezone="Mars/Olympus",
            holiday_country="XX",
            business_hours=[["17:00", "09:00"]] * 7,
        )
    assert set(excinfo.value.fields) == {
        "end_date",
        "timezone",
        "holiday_country",
        "business_hours",
    }
    engagement.refresh_from_db()
    assert engagement.timezone == "Europe/Berlin"


def test_status_follows_the_dates_in_the_engagement_zone(engagement):
    assert engagement.status_on(date(2025, 12, 31)) == Engagement.Status.UPCOMING
    assert engagement.status_on(date(2026, 6, 1)) == Engagement.Status.ACTIVE
    assert engagement.status_on(date(2028, 1, 1)) == Engagement.Status.EXPIRED


def test_one_manager_serves_several_engagements_and_an_organization_holds_several(admin):
    manager = ManagerFactory()
    first = EngagementFactory(manager=manager)
    second = EngagementFactory(
        manager=manager, organization=first.organization, plan=plan("standard")
    )
    assert set(manager.managed_engagements.values_list("id", flat=True)) == {first.pk, second.pk}
    assert first.organization.engagements.count() == 2


def test_history_records_who_changed_an_engagement(admin, engagement):
    before = engagement.language
    contracts_services.engagement_update(acting_user=admin, engagement=engagement, language="ko")
    latest = AuditEntry.objects.filter(
        action="engagement.update", object_id=str(engagement.pk)
    ).first()
    assert latest.actor == admin
    assert (latest.before["language"], latest.after["language"]) == (before, "ko")


# --- Contacts --------------------------------------------------------------------------------


def test_fourth_contact_is_refused_and_removal_keeps_history(admin, engagement):
    first, second, third, fourth = people(engagement, 4)
    contacts = [
        contacts_services.contact_add(acting_user=admin, engagement=engagement, user=user)
        for user in (first, second, third)
    ]
    with pytest.raises(ContactLimitReached) as excinfo:
        contacts_services.contact_add(acting_user=admin, engagement=engagement, user=fourth)
    assert excinfo.value.code == "contact_limit_reached" and excinfo.value.status_code == 409
    contacts_services.contact_remove(acting_user=admin, contact=contacts[0])
    contacts_services.contact_add(acting_user=admin, engagement=engagement, user=fourth)
    assert Contact.objects.filter(engagement=engagement).count() == 4  # the removed one stays
    assert Contact.objects.filter(engagement=engagement, removed_at__isnull=True).count() == 3


def test_contacts_must_belong_to_the_engagement_organization(admin, engagement):
    outsider = MembershipFactory().user
    with pytest.raises(InvalidInput):
        contacts_services.contact_add(acting_user=admin, engagement=engagement, user=outsider)
    (insider,) = people(engagement, 1)
    contacts_services.contact_add(acting_user=admin, engagement=engagement, user=insider)
    with pytest.raises(InvalidInput):
        contacts_services.contact_add(acting_user=admin, engagement=engagement, user=insider)


@pytest.mark.django_db(transaction=True)
def test_two_requests_for_the_last_seat_exactly_one_wins(require_postgres, monkeypatch):
    """Real concurrent transactions on PostgreSQL: the engagement row lock serializes them."""
    admin = AdminFactory()
    engagement = EngagementFactory()
    for user in people(engagement, 2):
        contacts_services.contact_add(acting_user=admin, engagement=engagement, user=user)
    candidates = people(engagement, 2)
    original = contacts_selectors.is_active_contact

    def slow_check(*args, **kwargs):
        time.sleep(0.3)  # widen the window between counting seats and taking one
        return original(*args, **kwargs)

    monkeypatch.setattr(contacts_services, "is_active_contact", slow_check)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim(user):
        try:
            with system_scope("concurrency test"):
                barrier.wait()
                contacts_services.contact_add(acting_user=admin, engagement=engagement, user=user)
            outcomes.append("won")
        except ContactLimitReached:
            outcomes.append("contact_limit_reached")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(user,)) for user in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["contact_limit_reached", "won"]
    assert Contact.objects.filter(engagement=engagement, removed_at__isnull=True).count() == 3


# --- Absences and the responsible manager ------------------------------------------------


def test_deputy_is_responsible_while_the_manager_is_absent(engagement):
    manager = engagement.manager
    absences_services.absence_record(
        acting_user=manager,
        manager=manager,
        kind="vacation",
        starts_at=berlin(2026, 7, 6),
        ends_at=berlin(2026, 7, 11),
    )
    assert responsible_manager(engagement, berlin(2026, 7, 3, 12)) == manager
    assert responsible_manager(engagement, berlin(2026, 7, 8, 12)) == engagement.deputy
    assert responsible_manager(engagement, berlin(2026, 7, 11, 0, 1)) == manager


def test_absence_rules(engagement):
    manager, other = engagement.manager, engagement.deputy
    with pytest.raises(DomainError):
        absences_services.absence_record(
            acting_user=other,
            manager=manager,
            kind="sick",
            starts_at=berlin(2026, 7, 6),
            ends_at=berlin(2026, 7, 7),
        )
    absences_services.absence_record(
        acting_user=manager,
        manager=manager,
        kind="training",
        starts_at=berlin(2026, 7, 6),
        ends_at=berlin(2026, 7, 8),
    )
    with pytest.raises(InvalidInput) as excinfo:
        absences_services.absence_record(
            acting_user=manager,
            manager=manager,
            kind="sick",
            starts_at=berlin(2026, 7, 7),
            ends_at=berlin(2026, 7, 9),
        )
    assert "starts_at" in excinfo.value.fields
    with pytest.raises(InvalidInput):
        absences_services.absence_record(
            acting_user=manager,
            manager=manager,
            kind="party",
            starts_at=berlin(2026, 8, 7),
            ends_at=berlin(2026, 8, 6),
        )


# --- After-hours requests ------------------------------------------------------------------------


@pytest.fixture
def contact(admin, engagement):
    (user,) = people(engagement, 1)
    contacts_services.contact_add(acting_user=admin, engagement=engagement, user=user)
    return user


def test_after_hours_needs_two_business_days_notice(engagement, contact):
    now = berlin(2026, 6, 3, 10)  # Wednesday
    saturday = berlin(2026, 6, 6, 10), berlin(2026, 6, 6, 14)
    with pytest.raises(
        InvalidInput
    ) as excinfo:  # Wed 10:00 + 2 business days = Fri 10:00 ≤ Sat: ok
        afterhours_services.after_hours_request(
            acting_user=contact,
            engagement=engagement,
            starts_at=berlin(2026, 6, 4, 18),
            ends_at=berlin(2026, 6, 4, 22),
            reason="cutover",
            now=now,
        )
    assert "starts_at" in excinfo.value.fields
    request = afterhours_services.after_hours_request(
        acting_user=contact,
        engagement=engagement,
        starts_at=saturday[0],
        ends_at=saturday[1],
        reason="Data centre move",
        now=now,
    )
    assert request.status == AfterHoursRequest.Status.PENDING
    assert Notification.objects.filter(
        user=engagement.manager, kind="after_hours.requested"
    ).exists()


def test_after_hours_inside_business_hours_is_refused(engagement, contact):
    with pytest.raises(InvalidInput):
        afterhours_services.after_hours_request(
            acting_user=contact,
            engagement=engagement,
            starts_at=berlin(2026, 6, 15, 10),
            ends_at=berlin(2026, 6, 15, 12),
            reason="x",
            now=berlin(2026, 6, 1, 10),
        )


def test_only_contacts_request_and_only_the_manager_decides(engagement, contact):
    (stranger,) = people(engagement, 1)
    window = dict(
        starts_at=berlin(2026, 6, 13, 9),
        ends_at=berlin(2026, 6, 13, 13),
        reason="go-live",
        now=berlin(2026, 6, 1, 10),
    )
    with pytest.raises(DomainError):
        afterhours_services.after_hours_request(
            acting_user=stranger, engagement=engagement, **window
        )
    request = afterhours_services.after_hours_request(
        acting_user=contact, engagement=engagement, **window
    )
    with pytest.raises(DomainError):
        afterhours_services.after_hours_decide(acting_user=contact, request=request, approve=True)
    # Another engagement's manager does not see the request at all (a 404 in the portal).
    with pytest.raises(AfterHoursRequest.DoesNotExist):
        afterhours_services.after_hours_decide(
            acting_user=ManagerFactory(), request=request, approve=True
        )
    with pytest.raises(InvalidInput):
        afterhours_services.after_hours_decide(
            acting_user=engagement.manager, request=request, approve=False
        )
    afterhours_services.after_hours_decide(
        acting_user=engagement.deputy, request=request, approve=True, note="Covered by the deputy"
    )
    with pytest.raises(DomainError):
        afterhours_services.after_hours_decide(
            acting_user=engagement.manager, request=request, approve=False, note="too late"
        )


def test_approved_window_counts_as_business_time(engagement, contact):
    from engagements.business_time import business_time_between, is_business_time

    request = afterhours_services.after_hours_request(
        acting_user=contact,
        engagement=engagement,
        starts_at=berlin(2026, 6, 13, 9),
        ends_at=berlin(2026, 6, 13, 13),
        reason="go-live",
        now=berlin(2026, 6, 1, 10),
    )
    saturday_noon = berlin(2026, 6, 13, 12)
    assert not is_business_time(engagement_calendar(engagement), saturday_noon)
    afterhours_services.after_hours_decide(
        acting_user=engagement.manager, request=request, approve=True
    )
    calendar = engagement_calendar(engagement)
    assert is_business_time(calendar, saturday_noon)
    assert business_time_between(calendar, berlin(2026, 6, 13), berlin(2026, 6, 14)) == timedelta(
        hours=4
    )


# --- Time entries and overage ----------------------------------------------------------------


def log_week(engagement, monday: date, minutes: int):
    for offset, share in enumerate((minutes // 2, minutes - minutes // 2)):
        TimeEntry.objects.create(
            engagement=engagement,
            manager=engagement.manager,
            date=monday + timedelta(days=offset),
            minutes=share,
            activity="call",
        )


def test_time_entry_rules(engagement):
    with pytest.raises(DomainError):
        time_services.time_entry_log(
            acting_user=ManagerFactory(),
            engagement=engagement,
            day=date(2026, 6, 1),
            minutes=30,
            activity="call",
        )
    with pytest.raises(InvalidInput) as excinfo:
        time_services.time_entry_log(
            acting_user=engagement.manager,
            engagement=engagement,
            day=date(2026, 6, 1),
            minutes=0,
            activity="golf",
        )
    assert set(excinfo.value.fields) == {"minutes", "activity"}
    entry = time_services.time_entry_log(
        acting_user=engagement.deputy,
        engagement=engagement,
        day=date(2026, 6, 1),
        minutes=90,
        activity="review",
    )
    assert entry.manager == engagement.deputy


def test_weekly_totals_and_trailing_average(engagement):
    today = date(2026, 6, 17)  # Wednesday; full weeks: May 18, 25, Jun 1, 8
    for monday, minutes in (
        (date(2026, 5, 18), 600),
        (date(2026, 5, 25), 660),
        (date(2026, 6, 1), 720),
        (date(2026, 6, 8), 540),
        (date(2026, 6, 15), 90),
    ):
        log_week(engagement, monday, minutes)
    summary = hours_summary(engagement, today=today)
    assert summary.this_week_minutes == 90
    assert [minutes for _week, minutes in summary.trailing_weeks] == [600, 660, 720, 540]
    assert summary.trailing_average_minutes == 630 and summary.over_cap


def test_overage_flag_raised_once_and_cleared_through_the_beat_job(engagement, monkeypatch):
    admins = [AdminFactory(), AdminFactory()]
    today = date(2026, 6, 17)
    for monday in (date(2026, 5, 18), date(2026, 5, 25), date(2026, 6, 1), date(2026, 6, 8)):
        log_week(engagement, monday, 11 * 60)
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: datetime(2026, 6, 17, 8, tzinfo=BERLIN)
    )
    evaluate_overages.apply()
    evaluate_overages.apply()  # a second run changes nothing and notifies nobody again
    flag = OverageFlag.objects.get(engagement=engagement)
    assert flag.cleared_at is None and flag.average_minutes == 660 and flag.cap_minutes == 600
    assert [minutes for _week, minutes in flag.weekly_minutes] == [660] * 4
    notes = Notification.objects.filter(kind="overage.raised")
    assert sorted(note.user_id for note in notes) == sorted(admin.pk for admin in admins)
    # Four weeks later the average is back under the cap: the flag clears.
    for monday in (date(2026, 6, 15), date(2026, 6, 22), date(2026, 6, 29), date(2026, 7, 6)):
        log_week(engagement, monday, 5 * 60)
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: datetime(2026, 7, 15, 8, tzinfo=BERLIN)
    )
    evaluate_overages.apply()
    flag.refresh_from_db()
    assert flag.cleared_at is not None
    assert not OverageFlag.objects.filter(engagement=engagement, cleared_at__isnull=True).exists()
    assert hours_summary(engagement, today=today).trailing_average_minutes == 660
    assert timezone.now().date() == date(2026, 7, 15)


def test_one_spike_followed_by_empty_weeks_recommends_nothing(engagement):
    """41 hours in one week and three empty ones average 10.25 h, over the 10-hour cap, but
    only one week of four was over it: not "consistently and persistently"."""
    log_week(engagement, date(2026, 5, 18), 41 * 60)
    summary = hours_summary(engagement, today=date(2026, 6, 17))
    assert summary.over_cap and summary.weeks_over_cap == 1
    assert time_services.overage_evaluate(engagement=engagement, today=date(2026, 6, 17)) is None
    assert not OverageFlag.objects.filter(engagement=engagement).exists()


def test_three_weeks_of_four_over_the_cap_recommend_a_contract(engagement):
    for monday, minutes in (
        (date(2026, 5, 18), 11 * 60),
        (date(2026, 5, 25), 11 * 60),
        (date(2026, 6, 1), 2 * 60),
        (date(2026, 6, 8), 17 * 60),
    ):
        log_week(engagement, monday, minutes)
    flag = time_services.overage_evaluate(engagement=engagement, today=date(2026, 6, 17))
    assert flag is not None and flag.average_minutes == 615


def test_two_weeks_over_do_not_recommend_even_with_a_high_average(engagement):
    for monday, minutes in ((date(2026, 5, 25), 30 * 60), (date(2026, 6, 8), 30 * 60)):
        log_week(engagement, monday, minutes)
    summary = hours_summary(engagement, today=date(2026, 6, 17))
    assert summary.trailing_average_minutes == 900 and summary.weeks_over_cap == 2
    assert time_services.overage_evaluate(engagement=engagement, today=date(2026, 6, 17)) is None
