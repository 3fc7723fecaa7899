"""Maintenance windows (service function `maintenance`, Standard and Premium): planning, the
notices to named contacts (each exactly once), conflicts with after-hours support and holidays,
the entitlement gate, the pages, the API, the dashboard include and the calendar feed."""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.afterhours.models import AfterHoursRequest
from engagements.contacts.models import Contact
from engagements.contracts.models import EngagementHoliday
from engagements.selectors import engagement_calendar
from portal.audit import AuditEntry
from portal.errors import Conflict, InvalidInput, NotAllowed, NotEntitled
from portal.notifications import Notification
from portal.tenancy.scoping import tenant_scope
from reviews.maintenance import services
from reviews.maintenance.models import MaintenanceWindow
from reviews.maintenance.selectors import maintenance_conflicts, maintenance_upcoming
from reviews.maintenance.tasks import send_maintenance_notices
from reviews.scheduling.reminders import business_days_before
from tests.conftest import page_client, services_act_in_their_scope, signed_in
from tests.factories import EngagementFactory, MaintenanceWindowFactory, plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


def engagement_of(world):
    return world.a.objects["engagement"]


def tsam_engagement(world):
    """A TSAM engagement of tenant A, managed by world.manager, A's PoC a named contact."""
    engagement = EngagementFactory(
        organization=world.a.organization,
        plan=plan("tsam"),
        manager=world.manager,
        name="Engagement A on-premises",
    )
    Contact.objects.create(engagement=engagement, user=world.a.poc)
    return engagement


def next_weekday(weekday: int, *, after_days: int, at: time, engagement) -> datetime:
    """A local time on the given weekday at least `after_days` days from now, avoiding holidays."""
    calendar = engagement_calendar(engagement, with_after_hours=False)
    day = timezone.localtime(timezone.now(), engagement.zone).date() + timedelta(days=after_days)
    while day.weekday() != weekday or day in calendar.holidays:
        day += timedelta(days=1)
    return datetime.combine(day, at, tzinfo=engagement.zone)


def plan_window(world, **overrides) -> MaintenanceWindow:
    engagement = overrides.pop("engagement", engagement_of(world))
    starts_at = overrides.pop(
        "starts_at", next_weekday(2, after_days=10, at=time(20), engagement=engagement)
    )
    return services.maintenance_plan(
        acting_user=overrides.pop("acting_user", world.manager),
        engagement=engagement,
        title=overrides.pop("title", "Database patch night"),
        starts_at=starts_at,
        ends_at=overrides.pop("ends_at", starts_at + timedelta(hours=3)),
        systems_affected="Database cluster",
        expected_impact="Read-only for an hour",
    )


def notifications(user, kind: str) -> int:
    return Notification.objects.filter(user=user, kind=kind).count()


# --- Rules ---------------------------------------------------------------------------------------


def test_manager_plans_a_window_and_contacts_are_notified_once(world):
    window = plan_window(world)
    assert window.status == MaintenanceWindow.Status.PLANNED
    assert window.created_by == world.manager
    assert notifications(world.a.poc, "maintenance.planned") == 1
    assert notifications(world.a.member, "maintenance.planned") == 0  # not a named contact
    assert (
        AuditEntry.objects.filter(action="maintenance.plan", object_id=str(window.pk)).count() == 1
    )
    # Notifying again for the same window sends nothing more.
    services._notify_planned(window)
    assert notifications(world.a.poc, "maintenance.planned") == 1


def test_deputy_and_admin_may_plan_customers_and_other_managers_may_not(world):
    engagement = engagement_of(world)
    assert plan_window(world, acting_user=engagement.deputy).pk
    assert plan_window(world, acting_user=world.admin).pk
    for user in (world.a.poc, world.a.member, world.other_manager):
        with pytest.raises(NotAllowed):
            plan_window(world, acting_user=user)


def test_window_times_are_checked(world):
    start = timezone.now() + timedelta(days=3)
    with pytest.raises(InvalidInput) as error:
        plan_window(world, starts_at=start, ends_at=start)
    assert "ends_at" in error.value.fields
    past = timezone.now() - timedelta(hours=2)
    with pytest.raises(InvalidInput) as error:
        plan_window(world, starts_at=past, ends_at=past + timedelta(hours=1))
    assert "starts_at" in error.value.fields


def test_status_moves_forward_only(world):
    window = plan_window(world)
    window = services.maintenance_update_status(
        acting_user=world.manager, window=window, status="confirmed"
    )
    window = services.maintenance_update_status(
        acting_user=world.manager, window=window, status="done"
    )
    assert window.status == "done"
    with pytest.raises(Conflict):
        services.maintenance_update_status(
            acting_user=world.manager, window=window, status="planned"
        )
    with pytest.raises(Conflict):
        services.maintenance_update(acting_user=world.manager, window=window, title="Again")
    with pytest.raises(NotAllowed):
        services.maintenance_update_status(
            acting_user=world.a.poc, window=window, status="cancelled"
        )
    assert AuditEntry.objects.filter(action="maintenance.status").count() == 2


def test_tsam_engagement_is_not_entitled(world):
    engagement = tsam_engagement(world)
    with pytest.raises(NotEntitled) as error:
        plan_window(world, engagement=engagement)
    assert error.value.fields == {"function": ["maintenance"]}
    assert not MaintenanceWindow.objects.filter(engagement=engagement).exists()


# --- Notices before the window -------------------------------------------------------------------


def test_notice_goes_out_n_business_days_before_exactly_once(world, settings):
    settings.MAINTENANCE_NOTICE_BUSINESS_DAYS = 2
    window = plan_window(world)
    calendar = engagement_calendar(engagement_of(world), with_after_hours=False)
    due = business_days_before(calendar, window.starts_at, 2)
    assert due < window.starts_at - timedelta(days=1)

    assert services.send_maintenance_notices(due - timedelta(minutes=1)) == 0
    assert notifications(world.a.poc, "maintenance.notice") == 0
    assert services.send_maintenance_notices(due) == 1
    assert services.send_maintenance_notices(due + timedelta(minutes=5)) == 0
    assert notifications(world.a.poc, "maintenance.notice") == 1
    window.refresh_from_db()
    assert window.notice_sent_at == due


def test_notice_skips_cancelled_windows_and_rearms_when_moved(world):
    cancelled = plan_window(world, title="Cancelled one")
    services.maintenance_update_status(
        acting_user=world.manager, window=cancelled, status="cancelled"
    )
    moved = plan_window(world, title="Moved one")
    assert services.send_maintenance_notices(moved.starts_at - timedelta(hours=1)) == 1
    later = moved.starts_at + timedelta(days=7)
    services.maintenance_update(
        acting_user=world.manager,
        window=moved,
        starts_at=later,
        ends_at=later + timedelta(hours=2),
    )
    assert services.send_maintenance_notices(later - timedelta(hours=1)) == 1
    assert notifications(world.a.poc, "maintenance.notice") == 2
    assert not Notification.objects.filter(
        title__contains="Cancelled one", kind="maintenance.notice"
    )


def test_the_beat_task_sends_due_notices(world, settings):
    settings.MAINTENANCE_NOTICE_BUSINESS_DAYS = 2
    start = timezone.now() + timedelta(hours=20)
    MaintenanceWindowFactory(engagement=engagement_of(world), starts_at=start)
    assert send_maintenance_notices() == {"sent": 1}
    assert send_maintenance_notices() == {"sent": 0}
    assert notifications(world.a.poc, "maintenance.notice") == 1
    assert "maintenance-notices" in settings.CELERY_BEAT_SCHEDULE


# --- Conflicts -----------------------------------------------------------------------------------


def test_window_overlapping_approved_after_hours_is_flagged(world):
    engagement = engagement_of(world)
    saturday = next_weekday(5, after_days=10, at=time(9), engagement=engagement)
    window = MaintenanceWindowFactory(
        engagement=engagement, starts_at=saturday, ends_at=saturday + timedelta(hours=4)
    )
    assert maintenance_conflicts(window) == []
    pending = AfterHoursRequest.objects.create(
        engagement=engagement,
        requested_by=world.a.poc,
        starts_at=saturday + timedelta(hours=2),
        ends_at=saturday + timedelta(hours=8),
        reason="Go-live",
    )
    assert maintenance_conflicts(MaintenanceWindow.objects.get(pk=window.pk)) == []
    pending.status = AfterHoursRequest.Status.APPROVED
    pending.save()
    conflicts = maintenance_conflicts(MaintenanceWindow.objects.get(pk=window.pk))
    assert [conflict["kind"] for conflict in conflicts] == ["after_hours"]


def test_window_on_a_holiday_is_flagged(world):
    engagement = engagement_of(world)
    today = timezone.localtime(timezone.now(), engagement.zone).date()
    christmas = date(today.year, 12, 25)
    if christmas <= today + timedelta(days=1):
        christmas = date(today.year + 1, 12, 25)
    start = datetime.combine(christmas, time(22), tzinfo=engagement.zone)
    window = MaintenanceWindowFactory(
        engagement=engagement, starts_at=start, ends_at=start + timedelta(hours=1)
    )
    assert [conflict["kind"] for conflict in maintenance_conflicts(window)] == ["holiday"]
    # A date the admins added to the engagement's calendar counts too.
    added = next_weekday(1, after_days=20, at=time(8), engagement=engagement)
    EngagementHoliday.objects.create(engagement=engagement, date=added.date(), name="Company day")
    other = MaintenanceWindowFactory(
        engagement=engagement, starts_at=added, ends_at=added + timedelta(hours=1)
    )
    assert [conflict["kind"] for conflict in maintenance_conflicts(other)] == ["holiday"]
    # Cancelled windows are never flagged.
    window.status = MaintenanceWindow.Status.CANCELLED
    window.save()
    assert maintenance_conflicts(MaintenanceWindow.objects.get(pk=window.pk)) == []


def test_conflicts_show_in_the_api_and_on_the_page(world):
    engagement = engagement_of(world)
    today = timezone.localtime(timezone.now(), engagement.zone).date()
    new_year = date(today.year + 1, 1, 1)
    start = datetime.combine(new_year, time(10), tzinfo=engagement.zone)
    window = MaintenanceWindowFactory(
        engagement=engagement, starts_at=start, ends_at=start + timedelta(hours=2)
    )
    body = signed_in(world.a.poc).get(f"/api/v1/maintenance-windows/{window.pk}/").json()
    assert [conflict["kind"] for conflict in body["conflicts"]] == ["holiday"]
    page = page_client(world.a.poc).get(reverse("maintenance_list", args=[engagement.pk]))
    assert page.status_code == 200
    assert "Flagged" in page.content.decode()


# --- Pages ---------------------------------------------------------------------------------------


def test_manager_plans_through_the_page(world):
    engagement = engagement_of(world)
    start = timezone.localtime(next_weekday(3, after_days=10, at=time(21), engagement=engagement))
    response = page_client(world.manager).post(
        reverse("maintenance_list", args=[engagement.pk]),
        {
            "title": "Storage firmware",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "systems_affected": "SAN",
            "expected_impact": "None expected",
        },
    )
    assert response.status_code == 302
    window = MaintenanceWindow.objects.get(title="Storage firmware")
    assert window.starts_at == start
    assert notifications(world.a.poc, "maintenance.planned") == 1


def test_page_refuses_invalid_windows_on_the_form(world):
    engagement = engagement_of(world)
    start = timezone.localtime(timezone.now() + timedelta(days=5))
    response = page_client(world.manager).post(
        reverse("maintenance_list", args=[engagement.pk]),
        {
            "title": "Backwards",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 200
    assert "The window must end after it starts." in response.content.decode()


def test_poc_reads_but_cannot_plan(world):
    engagement = engagement_of(world)
    window = plan_window(world)
    client = page_client(world.a.poc)
    page = client.get(reverse("maintenance_list", args=[engagement.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert window.title in body and "Plan the window" not in body
    assert client.post(reverse("maintenance_list", args=[engagement.pk]), {}).status_code == 403
    edit = reverse("maintenance_edit", args=[engagement.pk, window.pk])
    assert client.get(edit).status_code == 403


def test_manager_edits_and_confirms_through_the_pages(world):
    engagement = engagement_of(world)
    window = plan_window(world)
    client = page_client(world.manager)
    start = timezone.localtime(window.starts_at)
    response = client.post(
        reverse("maintenance_edit", args=[engagement.pk, window.pk]),
        {
            "title": "Database patch night (extended)",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    client.post(
        reverse("maintenance_status", args=[engagement.pk, window.pk]), {"status": "confirmed"}
    )
    window.refresh_from_db()
    assert window.title == "Database patch night (extended)"
    assert window.ends_at == window.starts_at + timedelta(hours=5)
    assert window.status == "confirmed"


def test_pages_hide_maintenance_for_tsam(world):
    engagement = tsam_engagement(world)
    MaintenanceWindowFactory(engagement=engagement, title="Hidden window")
    client = page_client(world.a.poc)
    response = client.get(reverse("maintenance_list", args=[engagement.pk]))
    assert response.status_code == 403
    with tenant_scope(world.a.poc):
        titles = [window.title for window in maintenance_upcoming(world.a.poc)]
    assert "Hidden window" not in titles


def test_upcoming_windows_follow_a_change_of_the_matrix(world, django_capture_on_commit_callbacks):
    """The statement is kept across calls; the entitled plans are its values, not part of it,
    so moving maintenance off the plan hides the windows at the next call."""
    from engagements.catalog import services as catalog_services
    from engagements.catalog.models import Entitlement
    from tests.factories import AdminFactory

    window = plan_window(world)
    with tenant_scope(world.a.poc):
        assert [w.pk for w in maintenance_upcoming(world.a.poc)] == [window.pk]
    engagement = window.engagement
    maintenance = Entitlement.objects.get(plan=engagement.plan, function__code="maintenance")
    cells = set(Entitlement.objects.values_list("plan_id", "function_id"))
    # As many plans include it as before (the TSAM plan instead): the same shape of statement.
    assert (plan("tsam").pk, maintenance.function_id) not in cells
    cells.remove((engagement.plan_id, maintenance.function_id))
    cells.add((plan("tsam").pk, maintenance.function_id))
    with django_capture_on_commit_callbacks(execute=True):
        catalog_services.entitlement_matrix_set(acting_user=AdminFactory(), cells=cells)
    with tenant_scope(world.a.poc):
        assert maintenance_upcoming(world.a.poc) == []


def test_dashboard_include_lists_upcoming_windows(world):
    window = plan_window(world)
    MaintenanceWindowFactory(engagement=world.b.objects["engagement"], title="Tenant B window")
    request = RequestFactory().get("/")
    request.user = world.a.poc
    with tenant_scope(world.a.poc):
        html = render_to_string("reviews/maintenance/_maintenance_upcoming.html", request=request)
    assert window.title in html
    assert "Tenant B window" not in html
    assert reverse("maintenance_list", args=[window.engagement_id]) in html


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _grow(world, n: int) -> None:
    engagement = engagement_of(world)
    for step in range(n):
        start = timezone.now() + timedelta(days=3 + step, hours=1)
        MaintenanceWindowFactory(engagement=engagement, starts_at=start, created_by=world.manager)
        past = timezone.now() - timedelta(days=3 + step)
        MaintenanceWindowFactory(
            engagement=engagement, starts_at=past, ends_at=past + timedelta(hours=1), status="done"
        )


@pytest.mark.parametrize("role", ["poc", "manager"])
def test_list_page_issues_constant_queries(world, role):
    url = reverse("maintenance_list", args=[engagement_of(world).pk])
    client = page_client(world.user(role))
    client.get(url)
    _grow(world, 3)
    few = _count(client, url)
    _grow(world, 27)
    assert _count(client, url) == few


def test_api_list_issues_constant_queries(world):
    client = signed_in(world.a.poc)
    url = "/api/v1/maintenance-windows/"
    client.get(url)
    _grow(world, 3)
    few = _count(client, url)
    _grow(world, 27)
    assert _count(client, url) == few


# --- API -----------------------------------------------------------------------------------------


def _payload(world, engagement=None) -> dict:
    engagement = engagement or engagement_of(world)
    start = next_weekday(2, after_days=10, at=time(20), engagement=engagement)
    return {
        "engagement": engagement.pk,
        "title": "Kernel update",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "systems_affected": "All application servers",
        "expected_impact": "Rolling restarts",
    }


def test_api_manager_plans_and_confirms(world):
    client = signed_in(world.manager)
    response = client.post("/api/v1/maintenance-windows/", _payload(world), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "planned" and body["conflicts"] == []
    assert notifications(world.a.poc, "maintenance.planned") == 1
    response = client.patch(
        f"/api/v1/maintenance-windows/{body['id']}/", {"status": "confirmed"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    response = client.patch(
        f"/api/v1/maintenance-windows/{body['id']}/", {"status": "planned"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_api_refuses_customers_and_unknown_fields(world):
    response = signed_in(world.a.poc).post(
        "/api/v1/maintenance-windows/", _payload(world), format="json"
    )
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    response = signed_in(world.manager).post(
        "/api/v1/maintenance-windows/", {**_payload(world), "colour": "red"}, format="json"
    )
    assert response.status_code == 400 and "colour" in response.json()["fields"]


def test_api_tsam_engagement_is_not_entitled(world):
    engagement = tsam_engagement(world)
    client = signed_in(world.manager)
    response = client.post(
        "/api/v1/maintenance-windows/", _payload(world, engagement), format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_entitled"
    assert response.json()["fields"] == {"function": ["maintenance"]}
    hidden = MaintenanceWindowFactory(engagement=engagement, title="Hidden window")
    shown = plan_window(world)
    listed = client.get("/api/v1/maintenance-windows/").json()["results"]
    assert [row["id"] for row in listed] == [shown.pk]
    named = client.get(f"/api/v1/maintenance-windows/?engagement={engagement.pk}")
    assert named.status_code == 403 and named.json()["code"] == "not_entitled"
    detail = client.get(f"/api/v1/maintenance-windows/{hidden.pk}/")
    assert detail.status_code == 403 and detail.json()["code"] == "not_entitled"


def test_api_filters_by_engagement_and_status(world):
    window = plan_window(world)
    other = plan_window(world, title="Second")
    services.maintenance_update_status(acting_user=world.manager, window=other, status="cancelled")
    client = signed_in(world.a.poc)
    engagement = engagement_of(world)
    rows = client.get(
        f"/api/v1/maintenance-windows/?engagement={engagement.pk}&status=planned"
    ).json()["results"]
    assert [row["id"] for row in rows] == [window.pk]


# --- The calendar feed ---------------------------------------------------------------------------


def test_calendar_feed_carries_maintenance_windows(world):
    from reviews.feeds.selectors import build_calendar, feed_occurrences

    window = plan_window(world)
    MaintenanceWindowFactory(engagement=world.b.objects["engagement"], title="Tenant B window")
    now = timezone.now()
    with tenant_scope(world.a.poc):
        body = build_calendar(world.a.poc, feed_occurrences(world.a.poc, now=now), now=now)
    text = body.decode()
    assert f"maintenance-{window.pk}@" in text
    assert "Database patch night" in text
    assert "Tenant B window" not in text
