"""Session pages: the manager's weekly board (their landing page), the list of sessions, one
session, completing and cancelling it, action items, requesting an "as needed" session, the
customer dashboard's upcoming sessions, and query budgets."""

from __future__ import annotations

import itertools
import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from cases.casework.models import Case
from engagements.afterhours.models import AfterHoursRequest
from engagements.contacts.models import Contact
from engagements.time.models import OverageFlag, TimeEntry
from engagements.time.selectors import week_start
from portal.tenancy.scoping import tenant_scope
from reviews.board.selectors import case_risks
from reviews.board.views import RowText
from reviews.scheduling.models import ActionItem, Occurrence
from reviews.scheduling.scheduler import schedule_engagement
from tests.conftest import page_client
from tests.factories import EngagementFactory, MembershipFactory, UserFactory, plan
from tests.reviews.sessions import business_day

pytestmark = pytest.mark.django_db

_periods = itertools.count(1)


def engagement_of(world):
    return world.a.objects["engagement"]


def page(client, url_name, *args, **query):
    response = client.get(reverse(url_name, args=args), query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def this_week(user, day: int = 2, hour: int = 10) -> datetime:
    """A moment of the viewer's current week (Monday is day 0), in the viewer's zone."""
    zone = zoneinfo.ZoneInfo(user.time_zone)
    monday = week_start(timezone.now().astimezone(zone).date())
    return datetime.combine(monday + timedelta(days=day), time(hour), tzinfo=zone)


def session(engagement, *, start, deliverable="weekly_call", status="scheduled", **extra):
    return Occurrence.objects.create(
        engagement=engagement,
        deliverable=deliverable,
        period=extra.pop("period", f"test:{next(_periods)}"),
        scheduled_start=start,
        method=extra.pop("method", "video"),
        status=status,
        **extra,
    )


def unanswered_case(engagement, raised_by, *, subject, reminder_due_at, response_due_at):
    return Case.objects.create(
        engagement=engagement,
        kind=Case.Kind.INQUIRY,
        severity=Case.Severity.HIGH,
        subject=subject,
        received_at=reminder_due_at - timedelta(hours=6),
        reminder_due_at=reminder_due_at,
        response_due_at=response_due_at,
        raised_by=raised_by,
    )


# --- The board is the manager's landing page ------------------------------------------------------


def test_managers_land_on_the_board_others_on_the_dashboard(world):
    response = page_client(world.manager).get(reverse("dashboard"))
    assert response.status_code == 302 and response["Location"] == reverse("weekly_board")
    assert "Weekly board" in page(page_client(world.manager), "weekly_board")
    assert "Welcome" in page(page_client(world.admin), "dashboard")
    assert "Upcoming sessions" in page(page_client(world.a.poc), "dashboard")


def test_customers_get_403_on_the_board(world):
    for customer in (world.a.poc, world.a.member):
        assert page_client(customer).get(reverse("weekly_board")).status_code == 403


def test_navigation_offers_the_board_to_staff_and_sessions_to_everyone(world):
    board, sessions = reverse("weekly_board"), reverse("occurrence_list")
    manager_page = page(page_client(world.manager), "weekly_board")
    assert f'href="{board}"' in manager_page and f'href="{sessions}"' in manager_page
    admin_page = page(page_client(world.admin), "dashboard")
    assert f'href="{board}"' in admin_page
    poc_page = page(page_client(world.a.poc), "dashboard")
    assert f'href="{board}"' not in poc_page and f'href="{sessions}"' in poc_page


def test_board_shows_this_weeks_sessions_and_items_at_risk(world):
    engagement = engagement_of(world)
    schedule_engagement(engagement)
    now = timezone.now()
    call = session(engagement, start=this_week(world.manager, 2))
    done = session(
        engagement,
        start=this_week(world.manager, 0, 9),
        deliverable="service_review",
        status="completed",
    )
    next_week = session(engagement, start=this_week(world.manager, 8), deliverable="maintenance")
    missed = session(engagement, start=now - timedelta(days=12), status="missed")
    at_risk = unanswered_case(
        engagement,
        world.a.poc,
        subject="Slow checkout",
        reminder_due_at=now - timedelta(hours=1),
        response_due_at=now + timedelta(hours=3),
    )
    breached = unanswered_case(
        engagement,
        world.a.poc,
        subject="Login outage",
        reminder_due_at=now - timedelta(hours=5),
        response_due_at=now - timedelta(hours=1),
    )
    unanswered_case(  # not yet at risk
        engagement,
        world.a.poc,
        subject="Question about invoices",
        reminder_due_at=now + timedelta(hours=5),
        response_due_at=now + timedelta(hours=8),
    )
    at_risk.assignee = world.manager
    at_risk.save()
    foreign = session(world.b.objects["engagement"], start=this_week(world.manager, 2))
    unanswered_case(
        world.b.objects["engagement"],
        world.b.poc,
        subject="Tenant B trouble",
        reminder_due_at=now - timedelta(hours=1),
        response_due_at=now + timedelta(hours=3),
    )

    body = page(page_client(world.manager), "weekly_board")
    assert "Engagement A" in body and "Engagement B" not in body
    for occurrence in (call, done, next_week, missed):
        assert reverse("occurrence_detail", args=[occurrence.pk]) in body
    assert reverse("occurrence_detail", args=[foreign.pk]) not in body
    assert "Weekly call" in body and "Service review" in body
    assert 'class="board-session state-completed"' in body
    assert f'id="missed-{missed.pk}"' in body
    assert "Slow checkout" in body and reverse("case_detail", args=[at_risk.pk]) in body
    assert "Login outage" in body and reverse("case_detail", args=[breached.pk]) in body
    assert "Question about invoices" not in body and "Tenant B trouble" not in body
    assert "1 of 30" in body  # the manager's open items against the cap


def test_board_sessions_name_the_managers_engagements_once(world):
    """The sessions' statement lists the manager's engagements once per part (not the scope's
    list beside the board's); ids the scope does not cover go through the scope."""
    from reviews.board.selectors import board_sessions, board_weeks

    mine, theirs = engagement_of(world), world.b.objects["engagement"]
    now = timezone.now()
    ours = session(mine, start=this_week(world.manager, 2))
    other = session(theirs, start=this_week(world.manager, 2))
    weeks = board_weeks(now)
    with tenant_scope(world.manager), CaptureQueriesContext(connection) as queries:
        lists = board_sessions([mine.pk], weeks, now, 30)
    assert [occurrence.pk for occurrence in lists.weeks] == [ours.pk]
    # One statement of three parts where the database allows it (SQLite: three statements).
    statements = [q["sql"] for q in queries.captured_queries if "reviews_occurrence" in q["sql"]]
    parts = [part for statement in statements for part in statement.split("UNION ALL")]
    assert len(parts) == 3
    for part in parts:
        assert part.count('"reviews_occurrence"."engagement_id" IN (') == 1, part
    with tenant_scope(world.manager):
        lists = board_sessions([mine.pk, theirs.pk], weeks, now, 30)
    assert other.pk not in [occurrence.pk for occurrence in lists.weeks]


def test_board_at_risk_items_are_not_crowded_out_by_breached_ones(world):
    engagement = engagement_of(world)
    now = timezone.now()
    for n in range(3):
        unanswered_case(
            engagement,
            world.a.poc,
            subject=f"Overdue {n}",
            reminder_due_at=now - timedelta(days=3, hours=n),
            response_due_at=now - timedelta(days=2, hours=n),
        )
    almost_due = unanswered_case(
        engagement,
        world.a.poc,
        subject="Almost due",
        reminder_due_at=now - timedelta(hours=1),
        response_due_at=now + timedelta(hours=2),
    )
    with tenant_scope(world.manager) as scope:
        assert scope.engagement_ids  # the scope's own query, before counting
        with CaptureQueriesContext(connection) as queries:
            risks = case_risks([engagement], now, limit=1)
            names = [str(case.engagement) for case in risks.at_risk + risks.breached]
    assert [case.pk for case in risks.at_risk] == [almost_due.pk]
    assert [case.subject for case in risks.breached] == ["Overdue 2"]  # the longest overdue
    assert names == [engagement.name, engagement.name]
    # One statement of both sections where the database limits each part of a UNION, else one
    # per section; engagements come from the board's list.
    compound = connection.features.supports_slicing_ordering_in_compound
    assert len(queries) == (1 if compound else 2)


def test_board_rows_built_in_python_escape_what_people_typed(world):
    """The board's session and item rows are filled in Python (issue 7), not by the template's
    autoescaping: markup in a subject, an engagement's name or a request note stays text."""
    engagement = engagement_of(world)
    engagement.name = "R&D <i>platform</i>"
    engagement.save()
    now = timezone.now()
    unanswered_case(
        engagement,
        world.a.poc,
        subject="<script>alert(1)</script>",
        reminder_due_at=now - timedelta(hours=1),
        response_due_at=now + timedelta(hours=2),
    )
    session(engagement, start=this_week(world.manager, 2))
    body = page(page_client(world.manager), "weekly_board")
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<i>platform</i>" not in body and "R&amp;D &lt;i&gt;platform&lt;/i&gt;" in body


@pytest.mark.parametrize("language", ["en", "ko"])
def test_board_row_text_matches_the_template_filters_it_replaces(language):
    """The board formats its cells in Python (issue 7): the same text as `date`, `{% url %}` and
    `{% blocktranslate %}` (values escaped) in both languages and the viewer's zone."""
    template = engines["django"].from_string(
        '{% load i18n %}{{ v|date:"D j M, H:i" }}|{{ v|date:"D j, H:i" }}|{{ v|date:"c" }}|'
        '{{ v|date:"j M Y" }}|{% url "occurrence_detail" 42 %}|'
        "{% blocktranslate with when=name %}Flagged {{ when }}{% endblocktranslate %}"
    )
    now = datetime(2026, 11, 28, 7, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    moments = [now + timedelta(days=day, hours=13 * day, minutes=7 * day) for day in range(-40, 40)]
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo("Asia/Seoul")):
        text = RowText(now)
        for moment in moments:
            name = "<b>R&D</b>"
            ours = "|".join(
                [
                    text.day_time(moment),
                    text.weekday_time(moment),
                    text.iso(moment),
                    text.day_month_year(moment),
                    text.url("occurrence_detail", 42),
                    text.message(translation.gettext("Flagged %(when)s"), when=name),
                ]
            )
            assert ours == template.render({"v": moment, "name": name})


def test_board_shows_hours_overage_and_requests_to_act_on(world):
    engagement = engagement_of(world)
    today = engagement.local_today()
    for weeks_back in range(1, 5):
        TimeEntry.objects.create(
            engagement=engagement,
            manager=world.manager,
            date=week_start(today) - timedelta(weeks=weeks_back),
            minutes=12 * 60,
            activity="call",
        )
    OverageFlag.objects.create(engagement=engagement, average_minutes=720, cap_minutes=600)
    AfterHoursRequest.objects.create(
        engagement=engagement,
        requested_by=world.a.poc,
        starts_at=timezone.now() + timedelta(days=10),
        ends_at=timezone.now() + timedelta(days=10, hours=3),
        reason="Cutover",
    )
    requested = session(
        engagement,
        start=timezone.now() + timedelta(days=20),
        deliverable="upgrade_planning",
        period="as_needed:abc",
        requested_by=world.a.poc,
        request_note="Plan the 2027 upgrade",
    )
    body = page(page_client(world.manager), "weekly_board")
    assert "12 h of 10 h" in body and "Over the cap" in body
    assert "Additional contract recommended" in body
    assert f'id="requested-{requested.pk}"' in body and "Plan the 2027 upgrade" in body
    assert reverse("after_hours_list", args=[engagement.pk]) in body
    assert "Nothing to decide." not in body
    # The request's row names its engagement and requester (the board's engagements, reused).
    assert f"<tr><td>{escape(str(engagement))}</td>" in body
    assert escape(str(world.a.poc)) in body
    # The open flag's date in the badge's title; a cleared flag shows no badge.
    flag = OverageFlag.objects.get(engagement=engagement)
    raised = flag.raised_at.astimezone(zoneinfo.ZoneInfo(world.manager.time_zone))
    assert f'title="Flagged {raised.day} {raised:%b} {raised.year}"' in body
    flag.cleared_at = timezone.now()
    flag.save()
    body = page(page_client(world.manager), "weekly_board")
    assert "Additional contract recommended" not in body and "Over the cap" in body


def test_admin_board_shows_every_engagement_one_at_a_time_and_every_managers_load(world):
    a, b = engagement_of(world), world.b.objects["engagement"]
    call_a = session(a, start=this_week(world.admin, 3))
    call_b = session(b, start=this_week(world.admin, 3))
    client = page_client(world.admin)
    body = page(client, "weekly_board")
    assert "Engagement A" in body and "Engagement B" in body
    assert "Managers' load against the cap" in body and "Olga Other" in body
    only_b = page(client, "weekly_board", engagement=b.pk)
    assert reverse("occurrence_detail", args=[call_b.pk]) in only_b
    assert reverse("occurrence_detail", args=[call_a.pk]) not in only_b
    assert f'<option value="{b.pk}" selected>' in only_b
    assert f'<option value="{a.pk}">' in only_b and " selected>" not in body


# --- Sessions: the list and one session -----------------------------------------------------------


def test_sessions_list_upcoming_and_past_filtered_for_whoever_may_see_them(world):
    a = engagement_of(world)
    upcoming = session(a, start=timezone.now() + timedelta(days=5), deliverable="service_review")
    past = session(a, start=timezone.now() - timedelta(days=5), status="completed")
    far = session(a, start=timezone.now() + timedelta(days=120))
    foreign = session(world.b.objects["engagement"], start=timezone.now() + timedelta(days=5))
    for user in (world.a.poc, world.a.member, world.manager):
        body = page(page_client(user), "occurrence_list")
        assert reverse("occurrence_detail", args=[upcoming.pk]) in body
        assert reverse("occurrence_detail", args=[past.pk]) in body
        assert reverse("occurrence_detail", args=[far.pk]) not in body  # beyond 90 days
        assert reverse("occurrence_detail", args=[foreign.pk]) not in body
    reviews_only = page(page_client(world.a.poc), "occurrence_list", deliverable="service_review")
    assert reverse("occurrence_detail", args=[upcoming.pk]) in reviews_only
    assert reverse("occurrence_detail", args=[past.pk]) not in reviews_only
    completed = page(page_client(world.manager), "occurrence_list", status="completed")
    assert reverse("occurrence_detail", args=[past.pk]) in completed
    assert reverse("occurrence_detail", args=[upcoming.pk]) not in completed
    # Another tenant's engagement as a filter value is refused like a missing one.
    refused = page(
        page_client(world.a.poc), "occurrence_list", engagement=world.b.objects["engagement"].pk
    )
    missing = page(page_client(world.a.poc), "occurrence_list", engagement=987654)
    assert "Select a valid choice" in refused and "Select a valid choice" in missing


def test_session_shows_both_zones_minutes_items_and_the_report_link(world):
    world.manager.time_zone = "Asia/Seoul"
    world.manager.save()
    engagement = engagement_of(world)  # Europe/Berlin
    review = session(
        engagement,
        start=datetime(2026, 12, 1, 10, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
        deliverable="service_review",
    )
    ActionItem.objects.create(occurrence=review, description="Share the runbook", owner=world.a.poc)
    body = page(page_client(world.manager), "occurrence_detail", review.pk)
    assert "Tue 1 Dec 2026, 18:00" in body  # Seoul, the viewer's zone
    assert "Tue 1 Dec 2026, 10:00" in body  # Berlin, the engagement's
    assert "Share the runbook" in body
    assert reverse("review_report", args=[review.pk]) in body
    assert reverse("occurrence_complete", args=[review.pk]) in body
    poc_body = page(page_client(world.a.poc), "occurrence_detail", review.pk)
    assert reverse("review_report", args=[review.pk]) in poc_body
    assert reverse("occurrence_complete", args=[review.pk]) not in poc_body


# --- Completing -----------------------------------------------------------------------------------


def completion(**extra):
    data = {
        "method": "video",
        "minutes": "Went through the quarter.",
        "other_attendees": "",
        "items-TOTAL_FORMS": "5",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "5",
    }
    data.update(extra)
    return data


def test_completion_with_a_method_the_plan_does_not_allow_shows_the_error_and_saves_nothing(world):
    engagement = engagement_of(world)
    review = session(
        engagement, start=timezone.now() - timedelta(hours=2), deliverable="service_review"
    )
    url = reverse("occurrence_complete", args=[review.pk])
    client = page_client(world.manager)
    form = client.get(url).content.decode()
    assert 'value="in_person"' in form and 'value="video"' in form
    assert 'value="email"' not in form  # a premium review is in person or by video

    response = client.post(
        url,
        completion(
            method="email",
            attendees=[world.a.poc.pk],
            **{"items-0-description": "Send the slides", "items-0-owner": str(world.manager.pk)},
        ),
    )
    assert response.status_code == 200
    assert "The plan delivers this by: in_person, video." in response.content.decode()
    review.refresh_from_db()
    assert review.status == Occurrence.Status.SCHEDULED and review.minutes == ""
    assert not ActionItem.objects.filter(occurrence=review).exists()
    assert not review.attendees.exists()


def test_completion_records_method_attendees_minutes_and_action_items(world):
    engagement = engagement_of(world)
    call = session(engagement, start=timezone.now() - timedelta(hours=1))
    response = page_client(world.manager).post(
        reverse("occurrence_complete", args=[call.pk]),
        completion(
            method="phone",
            attendees=[world.a.poc.pk, world.manager.pk],
            other_attendees="Chris from Ops",
            **{
                "items-0-description": "Send the upgrade runbook",
                "items-0-owner": str(world.manager.pk),
                "items-0-due_date": "2026-12-15",
                "items-2-description": "Confirm the maintenance window",
                "items-2-owner": str(world.a.poc.pk),
            },
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("occurrence_detail", args=[call.pk])
    call.refresh_from_db()
    assert call.status == Occurrence.Status.COMPLETED and call.method == "phone"
    assert call.minutes == "Went through the quarter."
    assert set(call.attendees.values_list("pk", flat=True)) == {world.a.poc.pk, world.manager.pk}
    items = {item.description: item for item in ActionItem.objects.filter(occurrence=call)}
    assert set(items) == {"Send the upgrade runbook", "Confirm the maintenance window"}
    assert items["Send the upgrade runbook"].due_date == date(2026, 12, 15)
    assert items["Confirm the maintenance window"].owner == world.a.poc
    body = page(page_client(world.a.poc), "occurrence_detail", call.pk)
    assert "Send the upgrade runbook" in body and "Chris from Ops" in body


def test_completion_refuses_an_action_item_without_a_description(world):
    call = session(engagement_of(world), start=timezone.now() - timedelta(hours=1))
    response = page_client(world.manager).post(
        reverse("occurrence_complete", args=[call.pk]),
        completion(**{"items-1-owner": str(world.manager.pk)}),
    )
    assert "Describe the action." in response.content.decode()
    call.refresh_from_db()
    assert call.status == Occurrence.Status.SCHEDULED


def test_a_session_is_not_recorded_before_it_starts_but_can_be_cancelled(world):
    engagement = engagement_of(world)
    call = session(engagement, start=timezone.now() + timedelta(days=2))
    client = page_client(world.manager)
    detail = page(client, "occurrence_detail", call.pk)
    assert reverse("occurrence_complete", args=[call.pk]) not in detail
    assert reverse("occurrence_cancel", args=[call.pk]) in detail

    url = reverse("occurrence_complete", args=[call.pk])
    assert "Record it once it has started" in client.get(url).content.decode()
    response = client.post(
        url,
        completion(**{"items-0-description": "Send the slides", "items-0-owner": ""}),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Record it once it has started; before then it can only be cancelled." in body
    call.refresh_from_db()
    assert call.status == Occurrence.Status.SCHEDULED and call.minutes == ""
    assert not ActionItem.objects.filter(occurrence=call).exists()

    world.manager.language = "ko"
    world.manager.save()
    korean = page_client(world.manager).post(url, completion()).content.decode()
    assert "시작된 뒤에 기록할 수 있으며, 그 전에는 취소만 할 수 있습니다." in korean

    response = client.post(reverse("occurrence_cancel", args=[call.pk]), {"reason": "Moved"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.status == Occurrence.Status.CANCELLED


def test_a_started_session_offers_recording(world):
    call = session(engagement_of(world), start=timezone.now() - timedelta(minutes=1))
    detail = page(page_client(world.manager), "occurrence_detail", call.pk)
    assert reverse("occurrence_complete", args=[call.pk]) in detail


def test_customers_cannot_complete_or_cancel(world):
    call = session(engagement_of(world), start=timezone.now() + timedelta(days=1))
    for customer in (world.a.poc, world.a.member):
        client = page_client(customer)
        assert client.get(reverse("occurrence_complete", args=[call.pk])).status_code == 403
        assert (
            client.post(reverse("occurrence_complete", args=[call.pk]), completion()).status_code
            == 403
        )
        assert client.post(reverse("occurrence_cancel", args=[call.pk])).status_code == 403
    call.refresh_from_db()
    assert call.status == Occurrence.Status.SCHEDULED


def test_staff_cancel_a_session(world):
    call = session(engagement_of(world), start=timezone.now() + timedelta(days=1))
    client = page_client(world.manager)
    response = client.post(
        reverse("occurrence_cancel", args=[call.pk]), {"reason": "Customer holiday"}, follow=True
    )
    assert "Session cancelled." in response.content.decode()
    call.refresh_from_db()
    assert call.status == Occurrence.Status.CANCELLED
    again = client.post(reverse("occurrence_cancel", args=[call.pk]), follow=True)
    assert "Only scheduled occurrences can be cancelled." in again.content.decode()


def test_action_items_are_ticked_off_by_contacts_and_staff_not_members(world):
    call = session(
        engagement_of(world), start=timezone.now() - timedelta(days=1), status="completed"
    )
    item = ActionItem.objects.create(occurrence=call, description="Send the runbook")
    url = reverse("action_item_toggle", args=[item.pk])
    assert page_client(world.a.member).post(url).status_code == 403
    response = page_client(world.a.poc).post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="item-{item.pk}"' in response.content.decode()
    item.refresh_from_db()
    assert item.done
    response = page_client(world.manager).post(url)
    assert response.status_code == 302
    item.refresh_from_db()
    assert not item.done


# --- Requesting an "as needed" session ------------------------------------------------------------


def request_data(target, **extra):
    data = {
        "engagement": target.pk,
        "deliverable": "upgrade_planning",
        "method": "in_person",
        "preferred_start": business_day(target).isoformat() + "T14:30",
        "note": "Plan the move to the 2027 release",
    }
    data.update(extra)
    return data


def test_poc_requests_an_as_needed_session_and_the_manager_sees_it(world):
    engagement = engagement_of(world)
    client = page_client(world.a.poc)
    form = page(client, "occurrence_request")
    assert 'value="upgrade_planning"' in form and 'value="customer_enablement"' in form
    assert 'value="service_review"' not in form  # scheduled, not "as needed"

    response = client.post(reverse("occurrence_request"), request_data(engagement))
    occurrence = Occurrence.objects.get(deliverable="upgrade_planning")
    assert response.status_code == 302
    assert response["Location"] == reverse("occurrence_detail", args=[occurrence.pk])
    assert occurrence.requested_by == world.a.poc and occurrence.method == "in_person"
    # The preferred time is the engagement's wall-clock time (Europe/Berlin).
    local = occurrence.scheduled_start.astimezone(zoneinfo.ZoneInfo(engagement.timezone))
    assert (local.hour, local.minute) == (14, 30)

    board = page(page_client(world.manager), "weekly_board")
    assert f'id="requested-{occurrence.pk}"' in board
    assert "Plan the move to the 2027 release" in board


def test_request_refuses_a_method_the_plan_does_not_allow(world):
    response = page_client(world.a.poc).post(
        reverse("occurrence_request"), request_data(engagement_of(world), method="email")
    )
    assert response.status_code == 200
    assert "The plan delivers this by: in_person, video." in response.content.decode()
    assert not Occurrence.objects.exists()


def test_request_refuses_another_tenants_engagement_like_a_missing_one(world):
    client = page_client(world.a.poc)
    foreign = client.post(
        reverse("occurrence_request"), request_data(world.b.objects["engagement"])
    )
    missing = client.post(
        reverse("occurrence_request"),
        request_data(engagement_of(world), engagement=987654),
    )
    assert foreign.status_code == missing.status_code == 200
    assert "Select a valid choice" in foreign.content.decode()
    assert "Engagement B" not in foreign.content.decode()
    assert not Occurrence.objects.exists()


def test_members_who_are_not_named_contacts_cannot_request(world):
    client = page_client(world.a.member)
    assert client.get(reverse("occurrence_request")).status_code == 403
    assert (
        client.post(reverse("occurrence_request"), request_data(engagement_of(world))).status_code
        == 403
    )


def test_request_form_narrows_choices_to_the_chosen_engagement(world):
    standard = EngagementFactory(
        organization=world.a.organization,
        plan=plan("standard"),
        manager=world.manager,
        name="Standard engagement",
    )
    Contact.objects.create(engagement=standard, user=world.a.poc)
    body = page(
        page_client(world.a.poc),
        "occurrence_request",
        engagement=standard.pk,
        deliverable="upgrade_planning",
    )
    # Standard delivers upgrade planning by video only.
    assert f'value="{standard.pk}" selected' in body
    assert 'value="video"' in body and 'value="in_person"' not in body
    # Without a choice, the first engagement is chosen and the selects follow it.
    first = page(page_client(world.a.poc), "occurrence_request")
    assert "---------" not in first and " selected>" in first


# --- The customer dashboard -----------------------------------------------------------------------


def test_customer_dashboard_shows_the_next_five_sessions_and_the_request_link(world):
    engagement = engagement_of(world)
    starts = [timezone.now() + timedelta(days=day) for day in range(1, 8)]
    sessions = [session(engagement, start=start) for start in starts]
    session(world.b.objects["engagement"], start=timezone.now() + timedelta(hours=5))
    body = page(page_client(world.a.poc), "dashboard")
    shown = [s for s in sessions if reverse("occurrence_detail", args=[s.pk]) in body]
    assert shown == sessions[:5]
    assert reverse("occurrence_request") in body
    member_body = page(page_client(world.a.member), "dashboard")
    assert "Upcoming sessions" in member_body
    assert reverse("occurrence_request") not in member_body  # not a named contact


# --- Query budgets --------------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def grow(world, n, review):
    """More of everything the pages list: engagements, sessions, cases, items, people."""
    engagement = engagement_of(world)
    now = timezone.now()
    for step in range(n):
        other = EngagementFactory(
            organization=world.a.organization,
            manager=world.manager,
            deputy=engagement.deputy,
            plan=plan("standard" if step % 2 else "tsam"),
        )
        Contact.objects.create(engagement=other, user=world.a.poc)
        member = MembershipFactory(organization=world.a.organization, role="member").user
        Contact.objects.create(engagement=engagement, user=member)
        for target in (engagement, other):
            session(target, start=this_week(world.manager, step % 7, 9 + step % 8))
            session(target, start=now - timedelta(days=1 + step % 20), status="missed")
            session(
                target,
                start=now + timedelta(days=3 + step % 40),
                deliverable="upgrade_planning",
                period=f"as_needed:{next(_periods)}",
                requested_by=world.a.poc,
            )
            unanswered_case(
                target,
                world.a.poc,
                subject=f"Case {step}",
                reminder_due_at=now - timedelta(hours=1),
                response_due_at=now + timedelta(hours=1 if step % 2 else -1),
            )
            OverageFlag.objects.get_or_create(
                engagement=target,
                cleared_at=None,
                defaults={"average_minutes": 700, "cap_minutes": 600},
            )
            TimeEntry.objects.create(
                engagement=target,
                manager=world.manager,
                date=target.local_today() - timedelta(days=step % 20),
                minutes=30,
                activity="call",
            )
        ActionItem.objects.create(occurrence=review, description=f"Item {step}", owner=member)
        review.attendees.add(member, UserFactory(kind="manager"))


@pytest.mark.parametrize(
    ("role", "url_name"),
    [
        ("manager", "weekly_board"),
        ("admin", "weekly_board"),
        ("manager", "occurrence_list"),
        ("poc", "occurrence_list"),
        ("admin", "occurrence_list"),
        ("manager", "occurrence_detail"),
        ("poc", "occurrence_detail"),
        ("manager", "occurrence_complete"),
        ("poc", "occurrence_request"),
        ("manager", "occurrence_request"),
        ("poc", "dashboard"),
    ],
)
def test_pages_issue_constant_queries(world, role, url_name):
    review = session(
        engagement_of(world),
        start=timezone.now() - timedelta(days=1),
        deliverable="service_review",
        status="completed",
        minutes="Good quarter.",
    )
    args = [review.pk] if url_name in ("occurrence_detail", "occurrence_complete") else []
    if url_name == "occurrence_complete":
        review.status = Occurrence.Status.SCHEDULED
        review.save()
    url = reverse(url_name, args=args)
    client = page_client(world.user(role))
    client.get(url)  # warm up: sessions, caches
    grow(world, 3, review)
    few = _count(client, url)
    grow(world, 30, review)
    assert _count(client, url) == few


def test_board_lists_high_risks(world):
    from cases.risks.models import Risk

    engagement = world.a.objects["engagement"]
    Risk.objects.create(
        engagement=engagement,
        title="Storage saturation",
        likelihood=4,
        impact=5,
        score=20,
        created_by=world.manager,
    )
    Risk.objects.create(
        engagement=engagement,
        title="Minor naming issue",
        likelihood=1,
        impact=2,
        score=2,
        created_by=world.manager,
    )
    page = page_client(world.manager).get(reverse("weekly_board")).content.decode()
    assert "Storage saturation" in page and "Minor naming issue" not in page
