"""Engagement pages: who sees what, the forms and their errors, contacts, after-hours support,
time entries, absences, the dashboard cards, and query budgets."""

import itertools
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone

from engagements.absences.models import Absence
from engagements.afterhours.models import AfterHoursRequest
from engagements.contacts.models import Contact
from engagements.contracts.models import Engagement, EngagementHoliday
from engagements.time.models import OverageFlag, TimeEntry
from engagements.time.selectors import week_start
from portal.audit import AuditEntry
from tests.conftest import page_client as signed_in
from tests.factories import (
    EngagementFactory,
    ManagerFactory,
    MembershipFactory,
    OrganizationFactory,
    plan,
)

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


def engagement_of(world):
    return world.a.objects["engagement"]


def page(client, url_name, *args, **query):
    response = client.get(reverse(url_name, args=args), query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- Who may see which page -------------------------------------------------------------------

PAGES = [
    ("engagement_list", False, {"admin", "manager", "poc", "member"}),
    ("engagement_create", False, {"admin"}),
    ("engagement_detail", True, {"admin", "manager", "poc", "member"}),
    ("engagement_edit", True, {"admin"}),
    ("after_hours_list", True, {"admin", "manager", "poc", "member"}),
    ("time_entries", True, {"admin", "manager", "poc", "member"}),
    ("absence_list", False, {"admin", "manager"}),
]


@pytest.mark.parametrize(("url_name", "per_engagement", "allowed"), PAGES)
@pytest.mark.parametrize("role", ["admin", "manager", "poc", "member"])
def test_each_page_renders_for_the_roles_that_may_see_it(
    world, url_name, per_engagement, allowed, role
):
    args = [engagement_of(world).pk] if per_engagement else []
    response = signed_in(world.user(role)).get(reverse(url_name, args=args))
    assert response.status_code == (200 if role in allowed else 403)


def test_lists_differ_by_role(world):
    admin_page = page(signed_in(world.admin), "engagement_list")
    assert "New engagement" in admin_page
    assert "Engagement A" in admin_page and "Engagement B" in admin_page
    manager_page = page(signed_in(world.manager), "engagement_list")
    assert "My engagements" in manager_page and "Engagement A" in manager_page
    assert "Engagement B" not in manager_page and "New engagement" not in manager_page
    deputy = engagement_of(world).deputy
    deputy_page = page(signed_in(deputy), "engagement_list")
    assert "Engagement A" in deputy_page and ">Deputy</span>" in deputy_page
    poc_page = page(signed_in(world.a.poc), "engagement_list")
    assert "Engagement A" in poc_page and "Engagement B" not in poc_page
    assert "Named contact" in poc_page


def test_navigation_offers_engagements_to_all_and_absences_to_staff(world):
    poc_page = page(signed_in(world.a.poc), "dashboard")
    manager_page = page(signed_in(world.manager), "weekly_board")  # the manager's landing page
    assert reverse("engagement_list") in poc_page and reverse("absence_list") not in poc_page
    assert reverse("engagement_list") in manager_page and reverse("absence_list") in manager_page


# --- The engagement form ----------------------------------------------------------------------


def engagement_form_data(world, organization, **overrides):
    data = {
        "organization": organization.pk,
        "plan": plan("standard").pk,
        "name": "Fresh SaaS",
        "start_date": "2026-03-01",
        "end_date": "2027-02-28",
        "manager": world.manager.pk,
        "deputy": world.other_manager.pk,
        "timezone": "Asia/Seoul",
        "holiday_country": "KR",
        "language": "ko",
    }
    for day in range(7):
        if day < 5:
            data[f"opens_{day}"], data[f"closes_{day}"] = "09:00", "18:00"
        else:
            data[f"closed_{day}"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_admin_creates_and_edits_an_engagement(world):
    client = signed_in(world.admin)
    organization = OrganizationFactory(name="Fresh Customer")
    response = client.post(reverse("engagement_create"), engagement_form_data(world, organization))
    engagement = Engagement.objects.get(name="Fresh SaaS")
    assert response["Location"] == reverse("engagement_detail", args=[engagement.pk])
    assert engagement.business_hours == [["09:00", "18:00"]] * 5 + [None, None]
    assert (engagement.timezone, engagement.holiday_country, engagement.language) == (
        "Asia/Seoul",
        "KR",
        "ko",
    )
    assert AuditEntry.objects.filter(action="engagement.create").exists()

    form_page = page(client, "engagement_edit", engagement.pk)
    assert 'value="18:00"' in form_page and "Fresh Customer" in form_page
    edit = engagement_form_data(
        world, organization, deputy="", opens_5="10:00", closes_5="14:00", closed_5=None
    )
    response = client.post(reverse("engagement_edit", args=[engagement.pk]), edit)
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.deputy is None
    assert engagement.business_hours[5] == ["10:00", "14:00"]


def test_engagement_form_shows_errors_and_saves_nothing(world):
    client = signed_in(world.admin)
    organization = OrganizationFactory()
    before = Engagement.objects.count()
    response = client.post(
        reverse("engagement_create"),
        engagement_form_data(world, organization, deputy=world.manager.pk),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "The deputy cannot be the service manager." in body  # the service's refusal
    assert 'aria-invalid="true"' in body
    response = client.post(
        reverse("engagement_create"),
        engagement_form_data(world, organization, end_date="2026-01-01", closes_0="08:00"),
    )
    body = response.content.decode()
    assert "A day must open before it closes." in body
    response = client.post(
        reverse("engagement_create"),
        engagement_form_data(world, organization, end_date="2026-01-01"),
    )
    assert "The end date must not be before the start date." in response.content.decode()
    assert Engagement.objects.count() == before

    engagement = engagement_of(world)
    response = client.post(
        reverse("engagement_edit", args=[engagement.pk]),
        engagement_form_data(world, organization, manager=world.a.poc.pk, plan=engagement.plan.pk),
    )
    assert response.status_code == 200
    engagement.refresh_from_db()
    assert engagement.manager == world.manager  # a customer is not a choice


def test_engagement_detail_shows_plan_people_hours_and_holidays(world):
    engagement = engagement_of(world)
    EngagementHoliday.objects.create(
        engagement=engagement, date=engagement.local_today() + timedelta(days=10), name="Offsite"
    )
    body = page(signed_in(world.a.member), "engagement_detail", engagement.pk)
    assert "Max Manager" in body and "Dora Deputy" in body
    assert "Escalation management" in body  # premium includes it
    assert "Offsite" in body
    assert "Europe/Berlin" in body
    assert "Log time" not in body  # customers do not log time
    standard = page(signed_in(world.admin), "engagement_detail", world.b.objects["engagement"].pk)
    assert "Escalation management" not in standard  # not in the standard plan


def test_admin_adds_and_removes_extra_holidays(world):
    engagement = engagement_of(world)
    client = signed_in(world.admin)
    day = engagement.local_today() + timedelta(days=20)
    client.post(reverse("engagement_holiday_add", args=[engagement.pk]), {"date": day})
    holiday = EngagementHoliday.objects.get(engagement=engagement, date=day)
    response = client.post(
        reverse("engagement_holiday_add", args=[engagement.pk]), {"date": day}, follow=True
    )
    assert "already a holiday" in response.content.decode()
    client.post(reverse("engagement_holiday_delete", args=[engagement.pk, holiday.pk]))
    assert not EngagementHoliday.objects.filter(pk=holiday.pk).exists()
    assert (
        signed_in(world.manager)
        .post(reverse("engagement_holiday_add", args=[engagement.pk]), {"date": day})
        .status_code
        == 403
    )


# --- Named contacts ---------------------------------------------------------------------------


def test_contacts_are_added_removed_and_the_fourth_is_refused(world):
    engagement = engagement_of(world)
    client = signed_in(world.admin)
    url = reverse("engagement_contact_add", args=[engagement.pk])
    second, third, fourth = (
        MembershipFactory(organization=world.a.organization, role="poc").user for _ in range(3)
    )
    for person in (second, third):
        response = client.post(url, {"user": person.pk}, follow=True)
        assert "is now a named contact" in response.content.decode()
    response = client.post(url, {"user": fourth.pk}, follow=True)
    body = response.content.decode()
    assert "3 of 3 named contacts" in body
    assert "at most 3 named contacts" in body
    assert not Contact.objects.filter(user=fourth).exists()

    contact = Contact.objects.get(engagement=engagement, user=second)
    client.post(reverse("engagement_contact_remove", args=[engagement.pk, contact.pk]))
    contact.refresh_from_db()
    assert contact.removed_at is not None
    client.post(url, {"user": fourth.pk})
    assert Contact.objects.filter(user=fourth, removed_at__isnull=True).exists()
    outsider = MembershipFactory(organization=world.b.organization).user
    response = client.post(url, {"user": outsider.pk}, follow=True)
    assert not Contact.objects.filter(user=outsider).exists()
    assert signed_in(world.a.poc).post(url, {"user": fourth.pk}).status_code == 403


# --- After-hours support ------------------------------------------------------------------------


def saturday_ahead(days: int = 14) -> date:
    day = timezone.now().astimezone(BERLIN).date() + timedelta(days=days)
    return day + timedelta(days=(5 - day.weekday()) % 7)


def test_poc_requests_after_hours_support_and_the_manager_approves(world):
    engagement = engagement_of(world)
    poc = signed_in(world.a.poc)
    url = reverse("after_hours_list", args=[engagement.pk])
    form_page = page(poc, "after_hours_list", engagement.pk)
    assert "at least 2 business days ahead" in form_page
    assert "Earliest possible start now" in form_page

    today = timezone.now().astimezone(BERLIN).date()
    response = poc.post(
        url, {"day": today, "starts": "22:00", "ends": "23:00", "reason": "Too soon"}
    )
    assert "business days&#x27; notice" in response.content.decode()
    assert not AfterHoursRequest.objects.exists()

    saturday = saturday_ahead()
    response = poc.post(
        url, {"day": saturday, "starts": "10:00", "ends": "14:00", "reason": "Data centre move"}
    )
    assert response.status_code == 302
    request = AfterHoursRequest.objects.get()
    assert request.starts_at == datetime(
        saturday.year, saturday.month, saturday.day, 10, tzinfo=BERLIN
    )
    assert request.status == AfterHoursRequest.Status.PENDING

    # A member (not a named contact) cannot file one.
    assert signed_in(world.a.member).post(url, {"day": saturday}).status_code == 403
    # The manager sees it on the weekly board (their landing page) and decides it.
    manager = signed_in(world.manager)
    assert "Data centre move" in page(manager, "after_hours_list", engagement.pk)
    assert reverse("after_hours_list", args=[engagement.pk]) in page(manager, "weekly_board")
    decide = reverse("after_hours_decide", args=[engagement.pk, request.pk])
    response = manager.post(decide, {"decision": "decline", "note": ""}, follow=True)
    assert "Say why the request is declined." in response.content.decode()
    manager.post(decide, {"decision": "approve", "note": "Covered"})
    request.refresh_from_db()
    assert request.status == AfterHoursRequest.Status.APPROVED
    assert signed_in(world.a.poc).post(decide, {"decision": "approve"}).status_code == 403

    dashboard = page(poc, "dashboard")
    shown = dateformat.format(request.starts_at.astimezone(ZoneInfo("UTC")), "D j M, H:i")
    assert shown in dashboard
    assert "none planned" not in dashboard


# --- Time entries -------------------------------------------------------------------------------


def test_time_entries_are_logged_and_totalled_by_week(world):
    engagement = engagement_of(world)
    manager = signed_in(world.manager)
    url = reverse("time_entries", args=[engagement.pk])
    today = engagement.local_today()
    response = manager.post(
        url, {"date": today, "duration": "1:30", "activity": "call", "note": "Weekly call"}
    )
    assert response.status_code == 302
    entry = TimeEntry.objects.get()
    assert (entry.minutes, entry.manager) == (90, world.manager)
    response = manager.post(url, {"date": today, "duration": "lots", "activity": "call"})
    assert "Write minutes (90) or hours:minutes (1:30)." in response.content.decode()
    last_week = week_start(today) - timedelta(days=7)
    TimeEntry.objects.create(
        engagement=engagement, manager=world.manager, date=last_week, minutes=660, activity="case"
    )

    staff_page = page(manager, "time_entries", engagement.pk)
    assert "1.5 h" in staff_page and "11 h" in staff_page and "Weekly call" in staff_page
    customer_page = page(signed_in(world.a.poc), "time_entries", engagement.pk)
    assert "1.5 h" in customer_page and "Weekly call" not in customer_page
    assert signed_in(world.a.poc).post(url, {"duration": "10"}).status_code == 403

    admin_entry = TimeEntry.objects.create(
        engagement=engagement,
        manager=engagement.deputy,
        date=today,
        minutes=30,
        activity="report",
    )
    delete = reverse("time_entry_delete", args=[engagement.pk, admin_entry.pk])
    assert manager.post(delete).status_code == 403
    manager.post(reverse("time_entry_delete", args=[engagement.pk, entry.pk]))
    assert not TimeEntry.objects.filter(pk=entry.pk).exists()


# --- Absences -----------------------------------------------------------------------------------


def test_absences_are_recorded_in_the_viewer_zone_and_listed_for_staff(world):
    world.manager.time_zone = "Asia/Seoul"
    world.manager.save()
    manager = signed_in(world.manager)
    start = (timezone.now() + timedelta(days=30)).astimezone(ZoneInfo("Asia/Seoul")).date()
    response = manager.post(
        reverse("absence_list"),
        {
            "kind": "vacation",
            "starts_at": f"{start}T09:00",
            "ends_at": f"{start + timedelta(days=5)}T18:00",
            "note": "Jeju",
        },
    )
    assert response.status_code == 302
    absence = Absence.objects.get(manager=world.manager)
    assert absence.starts_at == datetime(
        start.year, start.month, start.day, 9, tzinfo=ZoneInfo("Asia/Seoul")
    )
    listing = page(signed_in(world.other_manager), "absence_list")
    assert "Max Manager" in listing and "Jeju" in listing
    assert "Engagement A" not in listing  # coverage only of engagements the viewer may see
    listing = page(signed_in(engagement_of(world).deputy), "absence_list")
    assert "Engagement A</a>: <strong>you</strong>" in listing
    assert "Dora Deputy" in page(signed_in(world.admin), "absence_list")
    overlap = manager.post(
        reverse("absence_list"),
        {"kind": "sick", "starts_at": f"{start}T12:00", "ends_at": f"{start}T13:00"},
    )
    assert "This overlaps another absence." in overlap.content.decode()

    for customer in (world.a.poc, world.a.member):
        client = signed_in(customer)
        assert client.get(reverse("absence_list")).status_code == 403
        assert client.post(reverse("absence_list"), {"kind": "sick"}).status_code == 403
        assert client.post(reverse("absence_delete", args=[absence.pk])).status_code == 403
    assert (  # like a missing one: no id oracle (tests/security/test_staff_id_oracle.py)
        signed_in(world.other_manager)
        .post(reverse("absence_delete", args=[absence.pk]))
        .status_code
        == 404
    )
    manager.post(reverse("absence_delete", args=[absence.pk]))
    assert not Absence.objects.exists()


def test_admins_record_absences_for_managers(world):
    admin = signed_in(world.admin)
    start = timezone.now() + timedelta(days=3)
    admin.post(
        reverse("absence_list"),
        {
            "manager": world.other_manager.pk,
            "kind": "training",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert Absence.objects.get().manager == world.other_manager


# --- The dashboard --------------------------------------------------------------------------------


def log_weeks(engagement, minutes_per_week, weeks=4):
    current = week_start(engagement.local_today())
    for week in range(1, weeks + 1):
        TimeEntry.objects.create(
            engagement=engagement,
            manager=engagement.manager,
            date=current - timedelta(weeks=week),
            minutes=minutes_per_week,
            activity="case",
        )


def test_poc_dashboard_card_shows_people_availability_and_hours(world):
    engagement = engagement_of(world)
    poc = signed_in(world.a.poc)
    body = page(poc, "dashboard")
    assert "Max Manager" in body and "Dora Deputy" in body
    assert "Available" in body and "deputy covers" not in body
    assert "Request after-hours support" in body
    assert "Tenant b Corporation" not in body

    now = timezone.now()
    Absence.objects.create(
        manager=world.manager,
        kind="vacation",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=2),
    )
    TimeEntry.objects.create(
        engagement=engagement,
        manager=world.manager,
        date=engagement.local_today(),
        minutes=120,
        activity="call",
    )
    log_weeks(engagement, 11 * 60)
    body = page(poc, "dashboard")
    assert "deputy covers until" in body
    # The hours delivered; the budget and "Over the cap" are the provider's.
    assert "Manager hours this week" in body and "2 h" in body
    assert "11 h" in body and "of 10 h" not in body and "Over the cap" not in body

    member_body = page(signed_in(world.a.member), "dashboard")
    assert "Max Manager" in member_body
    assert "Request after-hours support" not in member_body  # not a named contact


def test_manager_and_admin_dashboards_flag_what_needs_attention(world):
    engagement = engagement_of(world)
    log_weeks(engagement, 12 * 60)
    OverageFlag.objects.create(
        engagement=engagement, average_minutes=720, cap_minutes=600, last_average_minutes=720
    )
    AfterHoursRequest.objects.create(
        engagement=engagement,
        requested_by=world.a.poc,
        starts_at=timezone.now() + timedelta(days=10),
        ends_at=timezone.now() + timedelta(days=10, hours=3),
        reason="Cutover",
    )
    lonely = EngagementFactory(name="Lonely engagement", deputy=None, manager=world.manager)

    manager_body = page(signed_in(world.manager), "weekly_board")  # the manager's landing page
    assert "Engagement A" in manager_body and "Over the cap" in manager_body
    assert "Nothing to decide." not in manager_body
    assert "Engagement B" not in manager_body

    admin_body = page(signed_in(world.admin), "dashboard")
    assert "Additional contract recommended" in admin_body and "12 h" in admin_body
    assert "Lonely engagement" in admin_body
    assert reverse("engagement_edit", args=[lonely.pk]) in admin_body
    detail = page(signed_in(world.admin), "engagement_detail", engagement.pk)
    assert "Additional contract recommended." in detail


# --- Query budgets ------------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


_dates = itertools.count(1)


def grow(world, n):
    """More of everything the pages list: engagements, contacts, entries, requests, absences."""
    engagement = engagement_of(world)
    now = timezone.now()
    for _ in range(n):
        step = next(_dates)
        other = EngagementFactory(
            organization=world.a.organization,
            manager=world.manager,
            deputy=engagement.deputy if step % 2 else None,
            plan=plan("standard" if step % 2 else "tsam"),
            timezone="Asia/Seoul" if step % 3 else "America/New_York",
            holiday_country="KR" if step % 3 else "US",
        )
        Contact.objects.create(engagement=other, user=world.a.poc)
        member = MembershipFactory(organization=world.a.organization, role="member").user
        Contact.objects.create(engagement=engagement, user=member)
        OverageFlag.objects.create(engagement=other, average_minutes=700, cap_minutes=600)
        EngagementHoliday.objects.create(
            engagement=engagement, date=engagement.local_today() + timedelta(days=step)
        )
        EngagementHoliday.objects.create(engagement=other, date=other.local_today())
        for target in (engagement, other):
            TimeEntry.objects.create(
                engagement=target,
                manager=world.manager,
                date=target.local_today() - timedelta(days=step % 20),
                minutes=30,
                activity="call",
                note="note",
            )
            for status in ("pending", "approved"):
                AfterHoursRequest.objects.create(
                    engagement=target,
                    requested_by=world.a.poc,
                    starts_at=now + timedelta(days=step, hours=1),
                    ends_at=now + timedelta(days=step, hours=3),
                    reason="window",
                    status=status,
                )
        absent = ManagerFactory()
        EngagementFactory(organization=world.a.organization, manager=absent, deputy=world.manager)
        Absence.objects.create(
            manager=absent,
            kind="vacation",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=step),
        )


@pytest.mark.parametrize(
    ("role", "url_name"),
    [
        ("poc", "dashboard"),
        ("manager", "weekly_board"),
        ("admin", "dashboard"),
        ("admin", "engagement_list"),
        ("manager", "engagement_list"),
        ("poc", "engagement_list"),
        ("admin", "engagement_detail"),
        ("poc", "engagement_detail"),
        ("poc", "after_hours_list"),
        ("manager", "after_hours_list"),
        ("manager", "time_entries"),
        ("poc", "time_entries"),
        ("manager", "absence_list"),
        ("admin", "absence_list"),
    ],
)
def test_pages_issue_constant_queries(world, role, url_name):
    engagement = engagement_of(world)
    no_args = ("dashboard", "weekly_board", "engagement_list", "absence_list")
    args = [] if url_name in no_args else [engagement.pk]
    url = reverse(url_name, args=args)
    client = signed_in(world.user(role))
    client.get(url)  # warm up: sessions, caches
    grow(world, 3)
    few = _count(client, url)
    grow(world, 30)
    assert _count(client, url) == few


def test_the_engagement_form_requires_zone_and_calendar_with_nothing_preselected(world):
    client = signed_in(world.admin)
    organization = OrganizationFactory()
    page = client.get(reverse("engagement_create"))
    form = page.context["form"]
    assert form["timezone"].value() in (None, "") and form["holiday_country"].value() in (None, "")
    before = Engagement.objects.count()
    response = client.post(
        reverse("engagement_create"),
        engagement_form_data(world, organization, timezone=None, holiday_country=None),
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"timezone", "holiday_country"}
    assert Engagement.objects.count() == before


# --- The engagement list a page at a time (issue 17) ------------------------------------------


def test_the_status_filter_follows_each_engagements_own_date(world):
    """`with_status` filters in the database by the date in each engagement's zone: an
    engagement ending "today" in UTC has already ended in Kiritimati (UTC+14) and not yet in
    Pago Pago (UTC−11), as `Engagement.status` says."""
    from engagements.contracts.selectors import with_status
    from portal.tenancy.scoping import tenant_scope

    now = datetime(2026, 12, 4, 12, 0, tzinfo=ZoneInfo("UTC"))
    east = EngagementFactory(name="East", timezone="Pacific/Kiritimati", end_date=date(2026, 12, 4))
    west = EngagementFactory(name="West", timezone="Pacific/Pago_Pago", end_date=date(2026, 12, 4))
    soon = EngagementFactory(
        name="Soon", timezone="Pacific/Pago_Pago", start_date=date(2026, 12, 5)
    )
    ours = {east.pk, west.pk, soon.pk}
    with tenant_scope(world.admin):
        everything = list(Engagement.objects.all())
        for status in Engagement.Status.values:
            filtered = {e.pk for e in with_status(Engagement.objects.all(), status, now)}
            expected = {e.pk for e in everything if e.status_on(e.local_today(now)) == status}
            assert filtered == expected, status
            assert (
                filtered & ours
                == {
                    Engagement.Status.EXPIRED: {east.pk},
                    Engagement.Status.ACTIVE: {west.pk},
                    Engagement.Status.UPCOMING: {soon.pk},
                }[status]
            )


def test_the_engagement_list_comes_a_page_at_a_time_keeping_its_filter(world):
    from engagements.contracts.views import ENGAGEMENT_PAGE_SIZE

    organization = OrganizationFactory()
    manager = ManagerFactory()
    for n in range(ENGAGEMENT_PAGE_SIZE + 2):
        EngagementFactory(organization=organization, manager=manager, name=f"Grown {n:03}")
    client = signed_in(world.admin)
    first = page(client, "engagement_list", status="active")
    assert first.count('href="/engagements/') >= ENGAGEMENT_PAGE_SIZE
    assert "?status=active&amp;page=2" in first
    second = page(client, "engagement_list", status="active", page="2")
    first_names = set(re.findall(r">(Grown \d{3})<", first))
    second_names = set(re.findall(r">(Grown \d{3})<", second))
    assert second_names and not first_names & second_names

    # A page out of range answers the last page, a word the first (Paginator.get_page).
    def names(**query):
        return re.findall(r">(Grown \d{3})<", page(client, "engagement_list", **query))

    assert names(page="999") == names(page="3")
    assert "Grown" in page(client, "engagement_list", page="first")
