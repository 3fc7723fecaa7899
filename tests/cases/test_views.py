"""Case pages: each page for each role, raising through the form (with its due time), the
response clock on the badge, entitlement-gated actions, the RCA rule, the cap, attachments,
internal notes, the admin's load table, and query budgets."""

import itertools
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone

from cases import sla as cases_sla
from cases.casework import services as casework_services
from cases.casework.models import Attachment, Case, CaseEvent, RootCauseAnalysis
from engagements.contacts.models import Contact
from portal.notifications import Notification
from tests.conftest import PNG_BYTES
from tests.conftest import page_client as signed_in
from tests.factories import EngagementFactory, ManagerFactory, plan
from tests.isolation.harness import _comparable

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")
BERLIN = ZoneInfo("Europe/Berlin")


def engagement_of(world):
    return world.a.objects["engagement"]


def raise_case(world, subject="Printer on fire", *, engagement=None, by=None, **fields):
    engagement = engagement or engagement_of(world)
    return casework_services.case_raise(
        acting_user=by or world.a.poc,
        engagement=engagement,
        kind=fields.pop("kind", "inquiry"),
        severity=fields.pop("severity", 2),
        subject=subject,
        description=fields.pop("description", "It does not work."),
        **fields,
    )


def page(client, url_name, *args, **query):
    response = client.get(reverse(url_name, args=args), query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def when(moment, zone):
    return dateformat.format(moment.astimezone(zone), "D j M Y, H:i")


def standard_engagement(world):
    """A Standard engagement of tenant A (no escalation or case management), A's PoC a contact."""
    engagement = EngagementFactory(
        organization=world.a.organization,
        plan=plan("standard"),
        manager=world.manager,
        deputy=engagement_of(world).deputy,
        name="Engagement A Standard",
    )
    Contact.objects.create(engagement=engagement, user=world.a.poc)
    return engagement


# --- Who may see which page -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager", "poc", "member"])
def test_each_page_renders_for_the_roles_that_may_see_it(world, role):
    case = raise_case(world)
    client = signed_in(world.user(role))
    assert client.get(reverse("case_list")).status_code == 200
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
    create = client.get(reverse("case_create"))
    assert create.status_code == (403 if role == "member" else 200)
    preview = client.get(reverse("case_due_preview"), {"engagement": engagement_of(world).pk})
    assert preview.status_code == (403 if role == "member" else 200)


def test_navigation_offers_cases_to_everyone(world):
    for role in ("admin", "manager", "poc", "member"):
        landing = "weekly_board" if role == "manager" else "dashboard"  # managers land on the board
        assert reverse("case_list") in page(signed_in(world.user(role)), landing)


def test_member_reads_but_cannot_act(world):
    case = raise_case(world)
    body = page(signed_in(world.a.member), "case_detail", case.pk)
    assert "Printer on fire" in body
    assert reverse("case_reply", args=[case.pk]) not in body
    assert "named contacts can reply to or act on items" in body
    client = signed_in(world.a.member)
    for name in ("case_reply", "case_status", "case_attach", "case_escalate"):
        assert client.post(reverse(name, args=[case.pk]), {"body": "x"}).status_code == 403


# --- The list ---------------------------------------------------------------------------------


def test_customer_list_shows_own_items_with_sla_badges_and_filters(world):
    now = timezone.now()
    on_track = raise_case(world, "Fresh question")
    at_risk = raise_case(world, "Getting late")
    breached = raise_case(world, "Way overdue", kind="incident", severity=1)
    on_time = raise_case(world, "Answered quickly")
    late = raise_case(world, "Answered slowly")
    Case.objects.filter(pk=at_risk.pk).update(
        reminder_due_at=now - timedelta(hours=1), response_due_at=now + timedelta(hours=1)
    )
    Case.objects.filter(pk=breached.pk).update(
        reminder_due_at=now - timedelta(hours=3), response_due_at=now - timedelta(hours=1)
    )
    casework_services.case_comment(acting_user=world.manager, case=on_time, body="On it.")
    casework_services.case_comment(acting_user=world.manager, case=late, body="Sorry.")
    Case.objects.filter(pk=late.pk).update(response_due_at=now - timedelta(days=1))
    raise_case(world, "Tenant B secret", engagement=world.b.objects["engagement"], by=world.b.poc)

    client = signed_in(world.a.poc)
    body = page(client, "case_list")
    for case, label in [
        (on_track, "On track"),
        (at_risk, "At risk"),
        (breached, "Breached"),
        (on_time, "Responded on time"),
        (late, "Responded late"),
    ]:
        row = body.split(f'id="case-{case.pk}"')[1].split("</tr>")[0]
        assert label in row, (case.subject, label)
    assert "Tenant B secret" not in body
    assert reverse("case_create") in body

    incidents = page(client, "case_list", kind="incident")
    assert "Way overdue" in incidents and "Fresh question" not in incidents
    casework_services.case_resolve(acting_user=world.manager, case=on_time)
    closed = page(client, "case_list", state="closed")
    assert "Answered quickly" in closed and "Fresh question" not in closed
    open_ = page(client, "case_list", state="open")
    assert "Answered quickly" not in open_ and "Fresh question" in open_
    other = standard_engagement(world)
    raise_case(world, "On the other engagement", engagement=other)
    only_other = page(client, "case_list", engagement=other.pk)
    assert "On the other engagement" in only_other and "Fresh question" not in only_other
    # Another tenant's engagement as a filter value is refused like one that does not exist.
    foreign = page(client, "case_list", engagement=world.b.objects["engagement"].pk)
    assert "Select a valid choice" in foreign and "Tenant B secret" not in foreign


def test_manager_queue_is_sorted_unanswered_first_with_load(world):
    later = raise_case(world, "Due later")
    sooner = raise_case(world, "Due sooner")
    answered = raise_case(world, "Already answered")
    now = timezone.now()
    Case.objects.filter(pk=later.pk).update(response_due_at=now + timedelta(days=3))
    Case.objects.filter(pk=sooner.pk).update(response_due_at=now + timedelta(days=1))
    Case.objects.filter(pk=answered.pk).update(response_due_at=now + timedelta(hours=1))
    casework_services.case_comment(acting_user=world.manager, case=answered, body="Answered.")
    casework_services.case_escalate(acting_user=world.a.poc, case=later, reason="Urgent")
    raise_case(world, "Tenant B secret", engagement=world.b.objects["engagement"], by=world.b.poc)

    body = page(signed_in(world.manager), "case_list")
    assert "My queue" in body
    assert body.index("Due sooner") < body.index("Due later") < body.index("Already answered")
    assert "Tenant B secret" not in body
    later_row = body.split(f'id="case-{later.pk}"')[1].split("</tr>")[0]
    assert "Escalated" in later_row and "Max Manager" in later_row
    assert "Engagement A" in later_row and world.a.organization.name in later_row
    assert "3 of 30" in body  # the manager's open items against the cap
    # Closed items leave the queue unless asked for.
    casework_services.case_resolve(acting_user=world.manager, case=answered)
    queue = page(signed_in(world.manager), "case_list")
    assert "Already answered" not in queue
    assert "Already answered" in page(signed_in(world.manager), "case_list", state="")
    mine = page(signed_in(world.manager), "case_list", queue="unassigned")
    assert "Due sooner" not in mine


def test_admin_sees_everything_the_load_table_and_the_provider_queue(world):
    raise_case(world, "Tenant A item")
    b_case = raise_case(
        world, "Tenant B item", engagement=world.b.objects["engagement"], by=world.b.poc
    )
    casework_services.case_assign(acting_user=world.admin, case=b_case, assignee=None)
    idle = ManagerFactory(name="Ida Idle")

    body = page(signed_in(world.admin), "case_list")
    assert "Tenant A item" in body and "Tenant B item" in body
    assert "load against the cap" in body
    load = body.split('class="load-table"')[1].split("</table>")[0]
    assert "Max Manager" in load and "1 of 30" in load
    assert idle.name in load and "0 of 30" in load
    queue = body.split('id="queue-title"')[1].split("</section>")[0]
    assert "Tenant B item" in queue and "Tenant A item" not in queue


# --- Raising through the form -----------------------------------------------------------------


def test_poc_raises_an_item_through_the_form_and_sees_the_due_time(world):
    poc = world.a.poc
    poc.time_zone = "Asia/Seoul"
    poc.save()
    engagement = engagement_of(world)
    client = signed_in(poc)
    before = cases_sla.response_deadlines(engagement, timezone.now())[1]
    body = page(client, "case_create")
    after = cases_sla.response_deadlines(engagement, timezone.now())[1]
    assert "within 1 business day" in body and engagement.plan.name in body
    assert when(before, SEOUL) in body or when(after, SEOUL) in body
    assert "Europe/Berlin" in body  # and in the engagement's own zone
    assert 'name="received_at"' not in body  # only staff backdate
    assert world.b.objects["engagement"].name not in body

    response = client.post(
        reverse("case_create"),
        {
            "engagement": engagement.pk,
            "kind": "incident",
            "severity": "1",
            "subject": "Login page down",
            "description": "Since 9:00.",
            "file": SimpleUploadedFile("screen.png", PNG_BYTES, content_type="image/png"),
        },
    )
    case = Case.objects.get(subject="Login page down")
    assert response.status_code == 302
    assert response["Location"] == reverse("case_detail", args=[case.pk])
    assert (case.kind, case.severity, case.raised_by, case.assignee) == (
        "incident",
        1,
        poc,
        world.manager,
    )
    assert case.attachments.get().original_name == "screen.png"
    detail = client.get(response["Location"]).content.decode()
    assert f"A response is due by {when(case.response_due_at, SEOUL)} (your time)" in detail
    assert "On track" in detail


def test_the_form_shows_errors_and_raises_nothing(world):
    client = signed_in(world.a.poc)
    before = Case.objects.count()
    response = client.post(
        reverse("case_create"),
        {
            "engagement": world.b.objects["engagement"].pk,
            "kind": "inquiry",
            "severity": "2",
            "subject": "",
            "file": SimpleUploadedFile("notes.txt", b"plain text", content_type="text/plain"),
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in body and "This field is required" in body
    response = client.post(
        reverse("case_create"),
        {
            "engagement": engagement_of(world).pk,
            "kind": "inquiry",
            "severity": "2",
            "subject": "With a bad file",
            "file": SimpleUploadedFile("notes.txt", b"plain text", content_type="text/plain"),
        },
    )
    assert "Only these file types are accepted" in response.content.decode()
    assert Case.objects.count() == before  # the item was rolled back with its file


def test_staff_may_backdate_an_import(world):
    manager = world.manager
    manager.time_zone = "Asia/Seoul"
    manager.save()
    engagement = engagement_of(world)
    client = signed_in(manager)
    assert 'name="received_at"' in page(client, "case_create")
    response = client.post(
        reverse("case_create"),
        {
            "engagement": engagement.pk,
            "kind": "service_request",
            "severity": "3",
            "subject": "Imported",
            "received_at": "2026-06-16T17:00",  # Tue 17:00 Seoul = 10:00 Berlin
        },
    )
    assert response.status_code == 302
    case = Case.objects.get(subject="Imported")
    assert case.received_at.astimezone(SEOUL).hour == 17
    assert case.response_due_at.astimezone(BERLIN).strftime("%a %H:%M") == "Wed 10:00"


def test_due_preview_fragment_follows_the_engagement(world):
    engagement = standard_engagement(world)
    client = signed_in(world.a.poc)
    body = page(client, "case_due_preview", engagement=engagement.pk)
    assert "Engagement A Standard" in body and "within 2 business days" in body
    assert "<html" not in body  # a fragment for htmx
    form = page(client, "case_create")
    assert 'hx-get="/cases/new/due/"' in form and "Response objectives" in form


def test_due_preview_of_another_tenants_engagement_is_404_like_a_missing_one(world):
    client = signed_in(world.a.poc)
    url = reverse("case_due_preview")
    foreign = client.get(url, {"engagement": world.b.objects["engagement"].pk})
    missing = client.get(url, {"engagement": 987654321})
    garbage = client.get(url, {"engagement": "x"})
    assert foreign.status_code == missing.status_code == garbage.status_code == 404
    assert _comparable(foreign) == _comparable(missing)


# --- Replies and the response clock -----------------------------------------------------------


def test_the_managers_public_reply_stops_the_clock(world):
    case = raise_case(world)
    poc = signed_in(world.a.poc)
    assert "On track" in page(poc, "case_detail", case.pk)

    manager = signed_in(world.manager)
    response = manager.post(reverse("case_reply", args=[case.pk]), {"body": "Looking into it."})
    case.refresh_from_db()
    event = CaseEvent.objects.get(case=case, kind="response")
    assert response["Location"] == reverse("case_detail", args=[case.pk]) + f"#event-{event.pk}"
    assert case.first_response_at == event.created_at and case.status == "responded"

    body = page(poc, "case_detail", case.pk)
    assert "Responded on time" in body and "Looking into it." in body
    assert "Responded on time" in page(poc, "case_list")
    # The customer's reply is public and does not touch the clock.
    poc.post(reverse("case_reply", args=[case.pk]), {"body": "Thanks!", "internal": "on"})
    assert CaseEvent.objects.get(case=case, body="Thanks!").public is True


def test_a_provider_admins_public_reply_stops_the_clock(world):
    case = raise_case(world)
    admin = signed_in(world.admin)
    admin.post(reverse("case_reply", args=[case.pk]), {"body": "Answering for Max."})
    case.refresh_from_db()
    event = CaseEvent.objects.get(case=case, kind="response")
    assert event.actor == world.admin and case.first_response_by == world.admin
    assert case.first_response_at == event.created_at and case.status == "responded"
    body = page(signed_in(world.a.poc), "case_detail", case.pk)
    assert "Responded on time" in body and f"by {world.admin}" in body


def test_reply_with_htmx_swaps_the_conversation_and_the_header(world):
    case = raise_case(world)
    client = signed_in(world.manager)
    response = client.post(
        reverse("case_reply", args=[case.pk]), {"body": "Via htmx."}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="conversation"')
    assert "Via htmx." in body
    assert 'id="case-facts"' in body and 'hx-swap-oob="true"' in body
    assert "Responded on time" in body
    empty = client.post(
        reverse("case_reply", args=[case.pk]), {"body": "  "}, HTTP_HX_REQUEST="true"
    )
    assert "This field is required" in empty.content.decode()


def test_customers_never_see_internal_notes_or_files(world):
    case = raise_case(world)
    manager = signed_in(world.manager)
    manager.post(
        reverse("case_reply", args=[case.pk]), {"body": "secret-note-xyz", "internal": "on"}
    )
    manager.post(
        reverse("case_attach", args=[case.pk]),
        {"file": SimpleUploadedFile("internal.png", PNG_BYTES), "internal": "on"},
    )
    case.refresh_from_db()
    assert case.first_response_at is None  # an internal note is not a response
    staff_view = page(manager, "case_detail", case.pk)
    assert "secret-note-xyz" in staff_view and "internal.png" in staff_view
    assert "added an internal note" in staff_view
    attachment = Attachment.objects.get(case=case)
    for role in ("poc", "member"):
        body = page(signed_in(world.user(role)), "case_detail", case.pk)
        assert "secret-note-xyz" not in body and "internal.png" not in body
        assert "assigned the item" not in body  # assignments are internal too
    url = reverse("case_attachment_download", args=[case.pk, attachment.pk])
    assert signed_in(world.a.poc).get(url).status_code == 404
    assert manager.get(url).status_code == 200


# --- Attachments ------------------------------------------------------------------------------


def test_attachments_upload_list_and_download(world):
    case = raise_case(world)
    client = signed_in(world.a.poc)
    response = client.post(
        reverse("case_attach", args=[case.pk]),
        {"file": SimpleUploadedFile("Diagram 1.png", PNG_BYTES, content_type="image/png")},
    )
    assert response["Location"].endswith("#attachments")
    attachment = Attachment.objects.get(case=case)
    assert attachment.public
    body = page(client, "case_detail", case.pk)
    url = reverse("case_attachment_download", args=[case.pk, attachment.pk])
    assert url in body and "Diagram 1.png" in body and "attached a file" in body
    download = client.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG_BYTES
    assert 'filename="diagram-1.png"' in download["Content-Disposition"]
    assert signed_in(world.a.member).get(url).status_code == 200  # public: the org may read it

    bad = client.post(
        reverse("case_attach", args=[case.pk]),
        {"file": SimpleUploadedFile("evil.png", b"MZ\x90\x00 not a png")},
    )
    assert bad.status_code == 200
    assert "Only these file types are accepted" in bad.content.decode()
    assert Attachment.objects.filter(case=case).count() == 1
    # Another item's id with this attachment: 404.
    other = raise_case(world, "Other")
    wrong = reverse("case_attachment_download", args=[other.pk, attachment.pk])
    assert client.get(wrong).status_code == 404


# --- Actions and their gates ------------------------------------------------------------------


def test_escalation_is_offered_on_premium_and_hidden_and_refused_on_standard(world):
    premium_case = raise_case(world)
    client = signed_in(world.a.poc)
    url = reverse("case_escalate", args=[premium_case.pk])
    assert url in page(client, "case_detail", premium_case.pk)
    response = client.post(url, {"reason": "Production down"})
    assert response.status_code == 302
    premium_case.refresh_from_db()
    assert premium_case.escalated_at is not None
    body = page(client, "case_detail", premium_case.pk)
    assert "Escalated" in body and url not in body  # once only
    assert Notification.objects.filter(user=world.manager, kind="case.escalated").exists()

    standard_case = raise_case(world, "On Standard", engagement=standard_engagement(world))
    url = reverse("case_escalate", args=[standard_case.pk])
    assert url not in page(client, "case_detail", standard_case.pk)
    refused = client.post(url, {"reason": "Please"})
    assert refused.status_code == 403
    assert "does not include Escalation management" in refused.content.decode()
    standard_case.refresh_from_db()
    assert standard_case.escalated_at is None


def test_priority_needs_case_management(world):
    premium_case = raise_case(world)
    client = signed_in(world.manager)
    url = reverse("case_priority", args=[premium_case.pk])
    assert url in page(client, "case_detail", premium_case.pk)
    assert url not in page(signed_in(world.a.poc), "case_detail", premium_case.pk)
    assert client.post(url, {"priority": "2"}).status_code == 302
    premium_case.refresh_from_db()
    assert premium_case.priority == 2
    assert "Priority 2" in page(client, "case_detail", premium_case.pk)
    assert signed_in(world.a.poc).post(url, {"priority": "1"}).status_code == 403

    standard_case = raise_case(world, "On Standard", engagement=standard_engagement(world))
    url = reverse("case_priority", args=[standard_case.pk])
    assert url not in page(client, "case_detail", standard_case.pk)
    refused = client.post(url, {"priority": "1"})
    assert refused.status_code == 403 and "Case management" in refused.content.decode()


def test_status_changes_by_staff_and_the_customer(world):
    case = raise_case(world)
    manager = signed_in(world.manager)
    poc = signed_in(world.a.poc)
    assert reverse("case_status", args=[case.pk]) not in page(poc, "case_detail", case.pk)
    for status in ("awaiting_customer", "in_progress", "resolved"):
        assert (
            manager.post(reverse("case_status", args=[case.pk]), {"status": status}).status_code
            == 302
        )
        case.refresh_from_db()
        assert case.status == status
    body = page(poc, "case_detail", case.pk)
    assert "Reopen" in body and ">Close<" in body
    poc.post(reverse("case_status", args=[case.pk]), {"status": "closed"})
    case.refresh_from_db()
    assert case.status == "closed"
    poc.post(reverse("case_status", args=[case.pk]), {"status": "in_progress", "note": "Again"})
    case.refresh_from_db()
    assert case.status == "in_progress"
    assert "changed the status from Closed to In progress" in page(poc, "case_detail", case.pk)
    # The customer may not resolve; the page says why.
    refused = poc.post(reverse("case_status", args=[case.pk]), {"status": "resolved"})
    assert refused.status_code == 403
    # An impossible move is a message, not an error page.
    response = manager.post(
        reverse("case_status", args=[case.pk]), {"status": "closed"}, follow=True
    )
    assert "An item that is in progress cannot become closed." in response.content.decode()


def test_severity_zero_close_needs_an_rca_then_the_rca_form_records_it(world):
    case = raise_case(world, "Total outage", kind="incident", severity=0)
    client = signed_in(world.manager)
    client.post(reverse("case_status", args=[case.pk]), {"status": "resolved"})
    response = client.post(
        reverse("case_status", args=[case.pk]), {"status": "closed"}, follow=True
    )
    body = response.content.decode()
    assert "A severity-0 incident cannot be closed without a root cause analysis." in body
    assert "Record the root cause analysis first." in body
    case.refresh_from_db()
    assert case.status == "resolved"

    # The plan's RCA cadence (Premium: video or phone) gives the delivery methods.
    assert 'value="video"' in body and 'value="phone"' in body and 'value="email"' not in body
    url = reverse("case_rca", args=[case.pk])
    invalid = client.post(url, {"findings": "", "delivery_method": "email"})
    assert invalid.status_code == 200
    assert "This field is required" in invalid.content.decode()
    assert "Select a valid choice" in invalid.content.decode()
    delivered = timezone.localtime(timezone.now() - timedelta(hours=1), ZoneInfo("UTC"))
    response = client.post(
        url,
        {
            "findings": "A full disk.",
            "corrective_actions": "Alerting on disk usage.",
            "delivery_method": "video",
            "delivered_at": delivered.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    rca = RootCauseAnalysis.objects.get(case=case)
    assert (rca.delivery_method, rca.author) == ("video", world.manager)
    body = page(signed_in(world.a.poc), "case_detail", case.pk)
    assert "A full disk." in body and "Video conference" in body
    assert (
        client.post(reverse("case_status", args=[case.pk]), {"status": "closed"}).status_code == 302
    )
    case.refresh_from_db()
    assert case.status == "closed"


def test_assigning_to_a_manager_at_the_cap_shows_the_error(world):
    engagement = engagement_of(world)
    deputy = engagement.deputy
    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            engagement=engagement,
            kind="inquiry",
            severity=3,
            subject=f"Load {n}",
            received_at=now,
            response_due_at=now + timedelta(days=1),
            reminder_due_at=now + timedelta(hours=18),
            raised_by=world.a.poc,
            assignee=deputy,
        )
        for n in range(30)
    )
    case = raise_case(world, "One too many")
    client = signed_in(world.manager)
    form = page(client, "case_detail", case.pk)
    assert f"{deputy.name} &lt;{deputy.email}&gt; · 30 open" in form
    response = client.post(
        reverse("case_assign", args=[case.pk]), {"assignee": deputy.pk}, follow=True
    )
    body = response.content.decode()
    assert f"{deputy.name} already manages 30 open items" in body
    assert "Assign it to the deputy or leave it in the provider queue." in body
    case.refresh_from_db()
    assert case.assignee == world.manager
    # The provider queue is always possible.
    client.post(reverse("case_assign", args=[case.pk]), {"assignee": ""})
    case.refresh_from_db()
    assert case.assignee is None
    assert signed_in(world.a.poc).post(reverse("case_assign", args=[case.pk])).status_code == 403


# --- Query budgets ------------------------------------------------------------------------------


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


_serial = itertools.count(1)


def grow_cases(world, n):
    """More items of every shape: answered, escalated, unassigned, on two engagements, and
    more managers for the admin's load table."""
    engagement = engagement_of(world)
    for _ in range(n):
        step = next(_serial)
        case = raise_case(world, f"Grown {step}", kind="incident", severity=step % 4)
        if step % 2:
            casework_services.case_comment(acting_user=world.manager, case=case, body="Answer")
        if step % 3 == 0:
            casework_services.case_escalate(acting_user=world.a.poc, case=case)
        if step % 5 == 0:
            casework_services.case_assign(acting_user=world.admin, case=case, assignee=None)
        ManagerFactory()
    raise_case(world, "Grown B", engagement=world.b.objects["engagement"], by=world.b.poc)
    return engagement


@pytest.mark.parametrize("role", ["poc", "manager", "admin"])
def test_case_list_issues_constant_queries(world, role):
    url = reverse("case_list")
    client = signed_in(world.user(role))
    grow_cases(world, 3)
    client.get(url)  # warm up: sessions, caches
    few = _count(client, url)
    grow_cases(world, 27)
    assert _count(client, url) == few


@pytest.mark.parametrize("role", ["poc", "manager"])
def test_case_detail_issues_constant_queries(world, role):
    case = raise_case(world, kind="incident", severity=0)
    url = reverse("case_detail", args=[case.pk])
    client = signed_in(world.user(role))

    def grow(n):
        for step in range(n):
            casework_services.case_comment(
                acting_user=world.a.poc, case=case, body=f"Customer {step}"
            )
            casework_services.case_comment(
                acting_user=world.manager, case=case, body=f"Note {step}", public=step % 2 == 0
            )
            casework_services.case_attach(
                acting_user=world.a.poc,
                case=case,
                upload=SimpleUploadedFile(f"f{step}.png", PNG_BYTES),
            )
            casework_services.case_assign(
                acting_user=world.admin,
                case=case,
                assignee=world.manager if step % 2 else engagement_of(world).deputy,
            )

    grow(1)
    client.get(url)
    few = _count(client, url)
    grow(9)  # 30+ more events
    assert CaseEvent.objects.filter(case=case).count() > 30
    assert _count(client, url) == few
