"""The cases API: raising with the response objective of SPEC §4, the actions and who may take
them, the timeline and attachments customers see, trends, filters, ordering and query budgets."""

from datetime import datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases.casework import services
from cases.casework.models import Case, CaseEvent
from engagements.contracts.models import Engagement
from engagements.contracts.services import engagement_holiday_add
from tests.cases.conftest import engagement_with_contact, local
from tests.conftest import PNG_BYTES, signed_in
from tests.factories import plan

pytestmark = pytest.mark.django_db
CASES = "/api/v1/cases/"
MISSING = 987_654
PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def payload(engagement, **changes) -> dict:
    return {
        "engagement": engagement.pk,
        "kind": "inquiry",
        "severity": 2,
        "subject": "How do I rotate the keys?",
        "description": "Step by step, please.",
        **changes,
    }


def raise_case(client, engagement, **changes) -> dict:
    response = client.post(CASES, payload(engagement, **changes), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def url(case: dict | Case, action: str = "") -> str:
    pk = case["id"] if isinstance(case, dict) else case.pk
    return f"{CASES}{pk}/{action + '/' if action else ''}"


def add_cases(engagement, count: int, *, assignee=None, raised_by=None, **fields) -> list[Case]:
    """Open items arranged directly (the service path is covered above), newest last."""
    now = timezone.now()
    return Case.objects.bulk_create(
        Case(
            engagement=engagement,
            kind=fields.get("kind", "incident"),
            severity=fields.get("severity", n % 4),
            subject=f"Arranged item {n}",
            received_at=now - timedelta(hours=count - n),
            response_due_at=now + timedelta(days=1, minutes=n),
            reminder_due_at=now + timedelta(hours=18, minutes=n),
            assignee=assignee,
            raised_by=raised_by or engagement.manager,
            status=fields.get("status", Case.Status.NEW),
        )
        for n in range(count)
    )


# --- SPEC §4: the response objective of items raised through the API -------------------------

# (plan, received local, due local) for Mon–Fri 09:00–17:00; week of 2026-06-15 (Mon).
SPEC_EXAMPLES = [
    ("premium", (2026, 6, 16, 10, 0), (2026, 6, 17, 10, 0)),  # 1 day, Tue 10:00 → Wed 10:00
    ("premium", (2026, 6, 19, 16, 0), (2026, 6, 22, 16, 0)),  # 1 day, Fri 16:00 → Mon 16:00
    ("premium", (2026, 6, 17, 18, 30), (2026, 6, 18, 17, 0)),  # 1 day, Wed 18:30 → Thu 17:00
    ("standard", (2026, 6, 20, 11, 0), (2026, 6, 23, 17, 0)),  # 2 days, Sat 11:00 → Tue 17:00
    ("standard", (2026, 6, 15, 8, 0), (2026, 6, 16, 17, 0)),  # 2 days, Mon 08:00 → Tue 17:00
]
ZONES = ["Europe/Berlin", "Asia/Seoul"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(("plan_code", "received", "due"), SPEC_EXAMPLES)
def test_spec_examples_hold_for_items_raised_through_the_api(zone, plan_code, received, due):
    engagement, _contact = engagement_with_contact(plan_code, zone)
    body = raise_case(
        signed_in(engagement.manager),
        engagement,
        received_at=local(zone, *received).isoformat(),
    )
    assert at(body["received_at"]) == local(zone, *received)
    assert at(body["response_due_at"]) == local(zone, *due)


@pytest.mark.parametrize("zone", ZONES)
def test_spec_example_with_a_monday_holiday_through_the_api(zone):
    engagement, _contact = engagement_with_contact("premium", zone)
    engagement_holiday_add(
        acting_user=engagement.manager,
        engagement=engagement,
        day=local(zone, 2026, 6, 22).date(),
        name="Company day",
    )
    body = raise_case(
        signed_in(engagement.manager),
        engagement,
        received_at=local(zone, 2026, 6, 19, 16).isoformat(),
    )
    # 1 day, Monday a holiday: Fri 16:00 → Tue 16:00.
    assert at(body["response_due_at"]) == local(zone, 2026, 6, 23, 16)


# --- Raising ---------------------------------------------------------------------------------


def test_a_contact_raises_an_item_received_now(world):
    engagement = world.a.objects["engagement"]
    before = timezone.now()
    body = raise_case(signed_in(world.a.poc), engagement, kind="incident", severity=1)
    assert before <= at(body["received_at"]) <= timezone.now()
    assert at(body["response_due_at"]) > at(body["received_at"])
    assert body["status"] == "new" and body["sla"] == "on_track" and body["response_met"] is None
    assert body["raised_by"] == world.a.poc.pk and body["assignee"] == world.manager.pk
    assert body["first_response_at"] is None and body["rca"] is None
    assert set(body) >= {
        "id",
        "engagement",
        "kind",
        "severity",
        "subject",
        "description",
        "status",
        "received_at",
        "response_due_at",
        "first_response_at",
        "assignee",
        "priority",
        "raised_by",
        "escalated_at",
        "resolved_at",
        "closed_at",
        "sla",
        "response_met",
    }


def test_customers_cannot_set_received_at(world):
    engagement = world.a.objects["engagement"]
    response = signed_in(world.a.poc).post(
        CASES,
        payload(engagement, received_at="2026-06-16T10:00:00+02:00"),
        format="json",
    )
    body = assert_error(response, 400, "validation_error")
    assert list(body["fields"]) == ["received_at"]
    assert not Case.objects.exists()


def test_staff_cannot_date_an_item_in_the_future(world):
    engagement = world.a.objects["engagement"]
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = signed_in(world.manager).post(
        CASES, payload(engagement, received_at=future), format="json"
    )
    assert "received_at" in assert_error(response, 400, "validation_error")["fields"]


def test_a_member_who_is_not_a_named_contact_cannot_raise(world):
    response = signed_in(world.a.member).post(
        CASES, payload(world.a.objects["engagement"]), format="json"
    )
    assert_error(response, 403, "permission_denied")
    assert not Case.objects.exists()


def test_invalid_input_names_the_fields(world):
    client = signed_in(world.a.poc)
    engagement = world.a.objects["engagement"]
    body = assert_error(
        client.post(CASES, payload(engagement, kind="complaint", severity=7), format="json"),
        400,
        "validation_error",
    )
    assert set(body["fields"]) == {"kind", "severity"}
    body = assert_error(
        client.post(CASES, payload(engagement, subject=""), format="json"), 400, "validation_error"
    )
    assert set(body["fields"]) == {"subject"}
    body = assert_error(
        client.post(CASES, payload(engagement, urgency="high"), format="json"),
        400,
        "validation_error",
    )
    assert body["fields"] == {"urgency": ["Unknown field."]}
    assert not Case.objects.exists()


def test_another_tenants_engagement_is_refused_like_a_missing_one(world):
    client = signed_in(world.a.poc)
    foreign = client.post(CASES, payload(world.b.objects["engagement"]), format="json")
    missing = client.post(
        CASES, {**payload(world.b.objects["engagement"]), "engagement": MISSING}, format="json"
    )
    assert_error(foreign, 400, "validation_error")
    assert foreign.json()["fields"]["engagement"] == [
        f'Invalid pk "{world.b.objects["engagement"].pk}" - object does not exist.'
    ]
    assert missing.json()["fields"]["engagement"] == [
        f'Invalid pk "{MISSING}" - object does not exist.'
    ]


def test_cases_cannot_be_edited_or_deleted_directly(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    client = signed_in(world.manager)
    assert_error(
        client.patch(url(case), {"subject": "x"}, format="json"), 405, "method_not_allowed"
    )
    assert_error(client.delete(url(case)), 405, "method_not_allowed")


# --- Actions ---------------------------------------------------------------------------------


def test_respond_stops_the_clock(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    assert_error(
        signed_in(world.a.poc).post(url(case, "respond"), {"body": "me?"}, format="json"),
        403,
        "permission_denied",
    )
    response = signed_in(world.manager).post(
        url(case, "respond"), {"body": "Looking into it."}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["first_response_at"] is not None
    assert body["status"] == "responded"
    assert body["sla"] == "responded" and body["response_met"] is True
    assert_error(
        signed_in(world.manager).post(url(case, "respond"), {}, format="json"),
        400,
        "validation_error",
    )


def test_a_provider_admins_respond_stops_the_clock(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    admin = signed_in(world.admin)
    response = admin.post(url(case, "respond"), {"body": "Answering for Max."}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["first_response_at"] is not None and body["status"] == "responded"
    assert body["sla"] == "responded" and body["response_met"] is True
    events = results(admin.get(url(case, "events")))
    answer = next(event for event in events if event["kind"] == "response")
    assert answer["actor"] == world.admin.pk and answer["body"] == "Answering for Max."
    assert Case.objects.get(pk=case["id"]).first_response_by == world.admin


def test_a_late_response_is_responded_but_not_met(world):
    engagement = world.a.objects["engagement"]
    received = timezone.now() - timedelta(days=10)
    case = raise_case(signed_in(world.manager), engagement, received_at=received.isoformat())
    assert case["sla"] == "breached" and case["response_met"] is False
    body = signed_in(world.manager).post(url(case, "respond"), {"body": "Sorry."}, format="json")
    assert body.json()["sla"] == "responded" and body.json()["response_met"] is False


def test_escalation_needs_escalation_management(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    response = signed_in(world.a.poc).post(
        url(case, "escalate"), {"reason": "Production is down."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["escalated_at"] is not None
    assert_error(
        signed_in(world.manager).post(url(case, "escalate"), {}, format="json"), 409, "conflict"
    )

    engagement, contact = engagement_with_contact("standard")
    standard = raise_case(signed_in(contact), engagement)
    body = assert_error(
        signed_in(contact).post(url(standard, "escalate"), {"reason": "Now!"}, format="json"),
        403,
        "not_entitled",
    )
    assert body["fields"]["function"] == ["escalation_management"]
    assert Case.objects.get(pk=standard["id"]).escalated_at is None


def test_resolve_and_status_flow(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    manager = signed_in(world.manager)
    response = manager.post(url(case, "resolve"), {"note": "Fixed in 4.2."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "resolved"
    assert response.json()["resolved_at"] is not None
    body = assert_error(
        manager.post(url(case, "status"), {"status": "awaiting_customer"}, format="json"),
        400,
        "validation_error",
    )
    assert "status" in body["fields"]
    # The contact closes what was resolved; a member cannot.
    assert_error(
        signed_in(world.a.member).post(url(case, "status"), {"status": "closed"}, format="json"),
        403,
        "permission_denied",
    )
    response = signed_in(world.a.poc).post(url(case, "status"), {"status": "closed"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    assert response.json()["closed_at"] is not None


def test_a_severity_0_incident_closes_only_with_an_rca(world):
    case = raise_case(
        signed_in(world.a.poc), world.a.objects["engagement"], kind="incident", severity=0
    )
    manager = signed_in(world.manager)
    assert manager.post(url(case, "resolve"), {}, format="json").status_code == 200
    body = assert_error(
        manager.post(url(case, "status"), {"status": "closed"}, format="json"), 409, "conflict"
    )
    assert "rca" in body["fields"]
    rca = {
        "findings": "A full disk stopped the database.",
        "corrective_actions": "Disk alerts at 80 %.",
        "delivery_method": "email",  # Premium delivers RCAs by video or phone
        "delivered_at": (timezone.now() - timedelta(hours=1)).isoformat(),
    }
    body = assert_error(manager.post(url(case, "rca"), rca, format="json"), 400, "validation_error")
    assert list(body["fields"]) == ["delivery_method"]
    assert_error(
        signed_in(world.a.poc).post(url(case, "rca"), {**rca, "delivery_method": "video"}),
        403,
        "permission_denied",
    )
    response = manager.post(url(case, "rca"), {**rca, "delivery_method": "video"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["delivery_method"] == "video"
    response = manager.post(url(case, "status"), {"status": "closed"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "closed"
    assert response.json()["rca"]["findings"] == "A full disk stopped the database."


def test_assigning_to_a_manager_at_the_cap_is_refused(world):
    engagement = world.a.objects["engagement"]
    busy = engagement.deputy  # only the manager and the deputy may hold the item
    add_cases(engagement, 30, assignee=busy)
    case = raise_case(signed_in(world.a.poc), engagement)
    manager = signed_in(world.manager)
    body = assert_error(
        manager.post(url(case, "assign"), {"assignee": busy.pk}, format="json"),
        409,
        "manager_case_cap_reached",
    )
    assert "30" in body["detail"] and "assignee" in body["fields"]
    assert Case.objects.get(pk=case["id"]).assignee == world.manager
    response = manager.post(url(case, "assign"), {"assignee": None}, format="json")
    assert response.status_code == 200 and response.json()["assignee"] is None
    body = assert_error(
        manager.post(url(case, "assign"), {"assignee": world.a.poc.pk}, format="json"),
        400,
        "validation_error",
    )
    assert "assignee" in body["fields"]
    assert_error(
        signed_in(world.a.poc).post(
            url(case, "assign"), {"assignee": world.manager.pk}, format="json"
        ),
        403,
        "permission_denied",
    )


def test_priority_needs_case_management(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    response = signed_in(world.manager).post(url(case, "priority"), {"priority": 2}, format="json")
    assert response.status_code == 200 and response.json()["priority"] == 2
    assert_error(
        signed_in(world.manager).post(url(case, "priority"), {"priority": 9}, format="json"),
        400,
        "validation_error",
    )
    engagement, contact = engagement_with_contact("standard")
    standard = raise_case(signed_in(contact), engagement)
    body = assert_error(
        signed_in(engagement.manager).post(
            url(standard, "priority"), {"priority": 1}, format="json"
        ),
        403,
        "not_entitled",
    )
    assert body["fields"]["function"] == ["case_management"]


def test_action_input_is_strict(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    body = assert_error(
        signed_in(world.manager).post(
            url(case, "respond"), {"body": "Hi", "internal": True}, format="json"
        ),
        400,
        "validation_error",
    )
    assert body["fields"] == {"internal": ["Unknown field."]}


# --- The timeline ----------------------------------------------------------------------------


def test_customers_never_see_internal_events(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    manager = signed_in(world.manager)
    secret = "Internal: check the customer's licence first"
    response = manager.post(url(case, "comment"), {"body": secret, "public": False}, format="json")
    assert response.status_code == 201 and response.json()["public"] is False
    manager.post(url(case, "respond"), {"body": "We are on it."}, format="json")
    # A customer's comment is always public, whatever they send.
    response = signed_in(world.a.poc).post(
        url(case, "comment"), {"body": "Thanks", "public": False}, format="json"
    )
    assert response.status_code == 201 and response.json()["public"] is True

    for customer in (world.a.poc, world.a.member):
        client = signed_in(customer)
        events = results(client.get(url(case, "events")))
        assert all(event["public"] for event in events)
        assert [event["kind"] for event in events] == ["created", "response", "comment"]
        detail = client.get(url(case))
        assert detail.status_code == 200
        assert secret not in detail.content.decode()
        assert secret not in client.get(url(case, "events")).content.decode()
    staff_events = results(manager.get(url(case, "events")))
    assert secret in [event["body"] for event in staff_events]
    assert {"assignment", "comment"} <= {e["kind"] for e in staff_events if not e["public"]}


# --- Attachments -----------------------------------------------------------------------------


def upload(client, case, name, content, **fields):
    return client.post(
        url(case, "attachments"),
        {"file": SimpleUploadedFile(name, content), **fields},
        format="multipart",
    )


def download(client, attachment):
    return client.get(attachment["download_url"])


def test_attachments_upload_list_and_download(world):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    poc, manager = signed_in(world.a.poc), signed_in(world.manager)

    response = upload(poc, case, "screen.png", PNG_BYTES, public="false")
    assert response.status_code == 201, response.content
    shot = response.json()
    assert shot["public"] is True  # a customer's file is always visible to the customer
    assert shot["content_type"] == "image/png" and shot["size"] == len(PNG_BYTES)
    response = upload(manager, case, "internal.pdf", PDF_BYTES, public="false")
    assert response.status_code == 201, response.content
    internal = response.json()
    assert internal["public"] is False

    assert [a["id"] for a in results(poc.get(url(case, "attachments")))] == [shot["id"]]
    assert [a["id"] for a in results(manager.get(url(case, "attachments")))] == [
        shot["id"],
        internal["id"],
    ]

    response = download(poc, shot)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert 'filename="screen.png"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PNG_BYTES
    # A customer asking for an internal file gets what a missing one gets.
    hidden = download(poc, internal)
    missing = poc.get(f"{url(case, 'attachments')}{MISSING}/download/")
    assert_error(hidden, 404, "not_found")
    assert hidden.json() == missing.json()
    response = download(manager, internal)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES


def test_attachment_type_and_size_are_checked(world, monkeypatch):
    case = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    poc = signed_in(world.a.poc)
    body = assert_error(
        upload(poc, case, "notes.png", b"just text, not an image"), 400, "validation_error"
    )
    assert list(body["fields"]) == ["file"]
    monkeypatch.setattr(services, "ATTACHMENT_MAX_BYTES", 16)
    body = assert_error(upload(poc, case, "screen.png", PNG_BYTES), 400, "validation_error")
    assert list(body["fields"]) == ["file"]
    body = assert_error(
        poc.post(url(case, "attachments"), {}, format="multipart"), 400, "validation_error"
    )
    assert list(body["fields"]) == ["file"]
    assert_error(
        poc.post(url(case, "attachments"), {"file": "x"}, format="json"),
        415,
        "unsupported_media_type",
    )
    assert not case_attachments(case)


def case_attachments(case):
    return list(Case.objects.get(pk=case["id"]).attachments.all())


def test_another_tenants_attachment_is_404(world):
    foreign_case = services.case_raise(
        acting_user=world.b.poc,
        engagement=world.b.objects["engagement"],
        kind="incident",
        severity=2,
        subject="B's",
    )
    foreign = services.case_attach(
        acting_user=world.b.poc,
        case=foreign_case,
        upload=SimpleUploadedFile("b.png", PNG_BYTES),
    )
    own = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    for user in (world.a.poc, world.manager):
        client = signed_in(user)
        for path in (
            f"{CASES}{foreign_case.pk}/attachments/{foreign.pk}/download/",
            # A's own case with B's attachment id: still 404.
            f"{CASES}{own['id']}/attachments/{foreign.pk}/download/",
        ):
            assert_error(client.get(path), 404, "not_found")
        assert_error(upload(client, {"id": foreign_case.pk}, "x.png", PNG_BYTES), 404, "not_found")


# --- Trends ------------------------------------------------------------------------------------


def trends(client, engagement_id):
    return client.get(f"{CASES}trends/", {"engagement": engagement_id})


def test_trends_of_a_premium_engagement(world):
    engagement = world.a.objects["engagement"]
    poc, manager = signed_in(world.a.poc), signed_in(world.manager)
    raise_case(poc, engagement, kind="inquiry", severity=2)
    closed = raise_case(poc, engagement, kind="incident", severity=1)
    three_weeks_ago = timezone.now() - timedelta(weeks=3)
    raise_case(manager, engagement, kind="service_request", received_at=three_weeks_ago.isoformat())
    manager.post(url(closed, "resolve"), {}, format="json")
    poc.post(url(closed, "status"), {"status": "closed"}, format="json")

    response = trends(poc, engagement.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["engagement"] == engagement.pk and body["timezone"] == engagement.timezone
    weeks = body["weeks"]
    assert len(weeks) == 12
    mondays = [datetime.fromisoformat(week["week_start"]).date() for week in weeks]
    assert all(day.weekday() == 0 for day in mondays)
    assert mondays == sorted(mondays) and mondays[-1] == mondays[0] + timedelta(weeks=11)
    this_week, past = weeks[-1], weeks[-4]
    assert this_week["opened"] == {
        "total": 2,
        "by_kind": {"inquiry": 1, "incident": 1, "service_request": 0},
        "by_severity": {"0": 0, "1": 1, "2": 1, "3": 0},
    }
    assert this_week["closed"]["total"] == 1 and this_week["closed"]["by_kind"]["incident"] == 1
    assert past["opened"]["total"] == 1 and past["opened"]["by_kind"]["service_request"] == 1
    assert sum(week["opened"]["total"] for week in weeks) == 3
    assert body["open_by_status"] == {
        "new": 2,
        "responded": 0,
        "in_progress": 0,
        "awaiting_customer": 0,
    }


def test_trends_need_case_management(world):
    engagement, contact = engagement_with_contact("standard")
    body = assert_error(trends(signed_in(contact), engagement.pk), 403, "not_entitled")
    assert body["fields"]["function"] == ["case_management"]
    body = assert_error(signed_in(world.a.poc).get(f"{CASES}trends/"), 400, "validation_error")
    assert list(body["fields"]) == ["engagement"]
    assert_error(trends(signed_in(world.a.poc), "twelve"), 400, "validation_error")


def test_trends_of_another_tenant_are_404(world):
    """The isolation matrix cannot name trends' engagement (a query parameter): checked here."""
    services.case_raise(
        acting_user=world.b.poc,
        engagement=world.b.objects["engagement"],
        kind="incident",
        severity=2,
        subject="B's",
    )
    # Tenant B's engagement on a plan with case management, so a leak could not hide behind 403.
    Engagement.objects.filter(pk=world.b.objects["engagement"].pk).update(plan=plan("premium"))
    for user in (world.a.poc, world.a.member, world.manager):
        client = signed_in(user)
        foreign = trends(client, world.b.objects["engagement"].pk)
        missing = trends(client, MISSING)
        assert_error(foreign, 404, "not_found")
        assert foreign.json() == missing.json()
        assert trends(client, world.a.objects["engagement"].pk).status_code == 200
    assert trends(signed_in(world.admin), world.b.objects["engagement"].pk).status_code == 200


# --- Lists: filters, ordering, pagination ----------------------------------------------------


def ids(response) -> list[int]:
    return [row["id"] for row in results(response)]


def test_filters(world):
    engagement = world.a.objects["engagement"]
    poc, manager = signed_in(world.a.poc), signed_in(world.manager)
    new = raise_case(poc, engagement, kind="inquiry", severity=3)
    answered = raise_case(poc, engagement, kind="incident", severity=1)
    manager.post(url(answered, "respond"), {"body": "Hi"}, format="json")
    working = raise_case(poc, engagement, kind="incident", severity=0)
    manager.post(url(working, "status"), {"status": "in_progress"}, format="json")
    poc.post(url(working, "escalate"), {}, format="json")
    late = raise_case(
        manager,
        engagement,
        kind="service_request",
        received_at=(timezone.now() - timedelta(days=10)).isoformat(),
    )
    manager.post(url(late, "assign"), {"assignee": None}, format="json")

    def listed(**params):
        return sorted(ids(poc.get(CASES, params)))

    assert listed(status=["new", "in_progress"]) == sorted([new["id"], working["id"], late["id"]])
    assert listed(status="new,responded") == sorted([new["id"], answered["id"], late["id"]])
    assert listed(kind="incident") == sorted([answered["id"], working["id"]])
    assert listed(severity="0,1") == sorted([answered["id"], working["id"]])
    assert listed(escalated="true") == [working["id"]]
    assert len(listed(escalated="false")) == 3
    assert listed(sla="responded") == [answered["id"]]
    assert listed(sla="breached") == [late["id"]]
    assert listed(sla="on_track") == sorted([new["id"], working["id"]])
    assert listed(sla="at_risk") == []
    assert listed(unassigned="true") == [late["id"]]
    assert listed(assignee=world.manager.pk) == sorted([new["id"], answered["id"], working["id"]])
    assert listed(engagement=engagement.pk) == sorted(
        [new["id"], answered["id"], working["id"], late["id"]]
    )
    before = (timezone.now() - timedelta(days=1)).isoformat()
    assert listed(received_before=before) == [late["id"]]
    assert len(listed(received_after=before)) == 3
    # Every row's `sla` agrees with the filter.
    for state in ("on_track", "at_risk", "breached", "responded"):
        assert {row["sla"] for row in results(poc.get(CASES, {"sla": state}))} <= {state}
    for params in ({"status": "open"}, {"sla": "late"}, {"engagement": MISSING}):
        body = assert_error(poc.get(CASES, params), 400, "validation_error")
        assert list(body["fields"]) == list(params)
    body = assert_error(
        poc.get(CASES, {"engagement": world.b.objects["engagement"].pk}), 400, "validation_error"
    )
    assert list(body["fields"]) == ["engagement"]


def walk(client, params) -> list[int]:
    """Every id, following `next` links; then back again with `previous` links."""
    seen, link, pages = [], CASES, []
    response = client.get(link, params)
    while True:
        body = response.json()
        pages.append([row["id"] for row in body["results"]])
        seen += pages[-1]
        if not body["next"]:
            break
        response = client.get(body["next"])
    back = []
    while body["previous"]:
        body = client.get(body["previous"]).json()
        back = [row["id"] for row in body["results"]] + back
    assert back + pages[-1] == seen, "walking back does not retrace the pages"
    return seen


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        (None, lambda c: (-c.received_at.timestamp(), -c.pk)),
        ("received_at", lambda c: (c.received_at, c.pk)),
        ("response_due_at", lambda c: (c.response_due_at, c.pk)),
        ("-response_due_at", lambda c: (-c.response_due_at.timestamp(), -c.pk)),
        ("severity", lambda c: (c.severity, c.response_due_at, c.pk)),
        ("-severity", lambda c: (-c.severity, c.response_due_at, c.pk)),
    ],
)
def test_ordering_pages_exactly(world, ordering, key):
    engagement = world.a.objects["engagement"]
    arranged = add_cases(engagement, 11)
    # Ties on every field but the id.
    arranged += add_cases(engagement, 3, severity=1)
    Case.objects.filter(pk__in=[c.pk for c in arranged[-3:]]).update(
        received_at=arranged[0].received_at, response_due_at=arranged[0].response_due_at
    )
    expected = [case.pk for case in sorted(Case.objects.all(), key=key)]
    params = {"page_size": 3, **({"ordering": ordering} if ordering else {})}
    assert walk(signed_in(world.manager), params) == expected


def test_unknown_ordering_is_refused(world):
    body = assert_error(
        signed_in(world.manager).get(CASES, {"ordering": "description"}), 400, "validation_error"
    )
    assert list(body["fields"]) == ["ordering"]


def test_lists_show_only_the_actors_items(world):
    own = raise_case(signed_in(world.a.poc), world.a.objects["engagement"])
    foreign = services.case_raise(
        acting_user=world.b.poc,
        engagement=world.b.objects["engagement"],
        kind="incident",
        severity=2,
        subject="B's",
    )
    for user in (world.a.poc, world.a.member, world.manager):
        assert ids(signed_in(user).get(CASES)) == [own["id"]]
        assert_error(signed_in(user).get(url(foreign)), 404, "not_found")
    assert sorted(ids(signed_in(world.admin).get(CASES))) == sorted([own["id"], foreign.pk])


# --- Query budgets ---------------------------------------------------------------------------


def add_events(world, case, count):
    CaseEvent.objects.bulk_create(
        CaseEvent(case=case, kind="comment", actor=world.manager, body=f"Note {n}", public=n % 2)
        for n in range(count)
    )


@pytest.mark.parametrize("role", ["admin", "manager", "poc"])
def test_case_list_queries_do_not_grow_with_rows(world, role):
    engagement = world.a.objects["engagement"]
    client = signed_in(world.user(role))
    add_cases(engagement, 3, assignee=world.manager, raised_by=world.a.poc)
    client.get(CASES)  # warm up session and caches
    with CaptureQueriesContext(connection) as few:
        assert len(results(client.get(CASES))) == 3
    add_cases(engagement, 27, assignee=world.manager, raised_by=world.a.poc)
    with CaptureQueriesContext(connection) as many:
        assert len(results(client.get(CASES))) == 30
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


@pytest.mark.parametrize("role", ["admin", "manager", "poc"])
def test_event_list_queries_do_not_grow_with_rows(world, role):
    (case,) = add_cases(world.a.objects["engagement"], 1)
    client = signed_in(world.user(role))
    events = url(case, "events")
    add_events(world, case, 6)
    client.get(events)
    with CaptureQueriesContext(connection) as few:
        response = client.get(events, {"page_size": 100})
    add_events(world, case, 54)
    with CaptureQueriesContext(connection) as many:
        more = client.get(events, {"page_size": 100})
    assert len(results(more)) == len(results(response)) + (54 if role != "poc" else 27)
    assert len(results(response)) >= 3 and len(results(more)) >= 30
    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)
