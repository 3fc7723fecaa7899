"""Case rules: the response objective, the first response, status flow, RCA, escalation,
priority, the manager's cap (also under concurrency) and attachments."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from cases.casework import services
from cases.casework.models import Case, CaseEvent
from cases.casework.services import ManagerCaseCapReached
from engagements.absences.services import absence_record
from portal.errors import Conflict, InvalidInput, NotAllowed, NotEntitled
from portal.notifications import Notification, OutboxEmail
from tests.cases.conftest import engagement_with_contact, local
from tests.conftest import PNG_BYTES, acting_as, services_act_in_their_scope
from tests.factories import AdminFactory, EngagementFactory, plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, services)


# SPEC §4: (target business days, received local, due local) for Mon–Fri 09:00–17:00.
# Week of 2026-06-15 (Mon) .. 2026-06-21 (Sun); no holidays in Europe/Berlin or Asia/Seoul then.
SPEC_EXAMPLES = [
    ("premium", (2026, 6, 16, 10, 0), (2026, 6, 17, 10, 0)),  # 1 day, Tue 10:00 → Wed 10:00
    ("premium", (2026, 6, 19, 16, 0), (2026, 6, 22, 16, 0)),  # 1 day, Fri 16:00 → Mon 16:00
    ("premium", (2026, 6, 17, 18, 30), (2026, 6, 18, 17, 0)),  # 1 day, Wed 18:30 → Thu 17:00
    ("standard", (2026, 6, 20, 11, 0), (2026, 6, 23, 17, 0)),  # 2 days, Sat 11:00 → Tue 17:00
    ("standard", (2026, 6, 15, 8, 0), (2026, 6, 16, 17, 0)),  # 2 days, Mon 08:00 → Tue 17:00
]


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Seoul"])
@pytest.mark.parametrize(("plan_code", "received", "due"), SPEC_EXAMPLES)
def test_response_due_follows_spec_examples(zone, plan_code, received, due):
    engagement, _contact = engagement_with_contact(plan_code, zone)
    case = services.case_raise(
        acting_user=engagement.manager,
        engagement=engagement,
        kind="inquiry",
        severity=2,
        subject="Question",
        received_at=local(zone, *received),
    )
    assert case.response_due_at == local(zone, *due)


def test_monday_holiday_pushes_the_due_time():
    engagement, _contact = engagement_with_contact("premium", "Europe/Berlin")
    from engagements.contracts.services import engagement_holiday_add

    engagement_holiday_add(
        acting_user=engagement.manager,
        engagement=engagement,
        day=local("UTC", 2026, 6, 22).date(),
        name="Company day",
    )
    case = services.case_raise(
        acting_user=engagement.manager,
        engagement=engagement,
        kind="inquiry",
        severity=2,
        subject="Q",
        received_at=local("Europe/Berlin", 2026, 6, 19, 16),
    )
    assert case.response_due_at == local("Europe/Berlin", 2026, 6, 23, 16)


def test_raising_assigns_the_responsible_manager_and_notifies(premium):
    engagement, contact = premium
    case = services.case_raise(
        acting_user=contact,
        engagement=engagement,
        kind="incident",
        severity=1,
        subject="Login fails",
    )
    assert case.assignee == engagement.manager and case.status == Case.Status.NEW
    assert case.reminder_due_at < case.response_due_at
    assert Notification.objects.filter(user=engagement.manager, kind="case.raised").exists()
    assert OutboxEmail.objects.filter(to=engagement.manager.email).exists()
    absence_record(
        acting_user=engagement.manager,
        manager=engagement.manager,
        kind="sick",
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=1),
    )
    second = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=3, subject="While away"
    )
    assert second.assignee == engagement.deputy


def test_only_contacts_and_staff_raise_and_only_staff_backdate(premium):
    engagement, contact = premium
    from tests.factories import MembershipFactory

    member = MembershipFactory(organization=engagement.organization).user
    with pytest.raises(NotAllowed):
        services.case_raise(
            acting_user=member, engagement=engagement, kind="inquiry", severity=2, subject="x"
        )
    with pytest.raises(InvalidInput) as excinfo:
        services.case_raise(
            acting_user=contact,
            engagement=engagement,
            kind="inquiry",
            severity=2,
            subject="x",
            received_at=timezone.now() - timedelta(days=3),
        )
    assert "received_at" in excinfo.value.fields
    with pytest.raises(InvalidInput) as excinfo:
        services.case_raise(
            acting_user=contact, engagement=engagement, kind="bug", severity=7, subject=" "
        )
    assert set(excinfo.value.fields) == {"kind", "severity", "subject"}
    assert not Case.objects.exists()


def test_first_public_response_by_manager_or_deputy_stops_the_clock(premium):
    engagement, contact = premium
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject="Q"
    )
    services.case_comment(acting_user=contact, case=case, body="More detail")
    services.case_comment(acting_user=engagement.manager, case=case, body="internal", public=False)
    case.refresh_from_db()
    assert case.first_response_at is None
    services.case_respond(acting_user=engagement.deputy, case=case, body="On it")
    case.refresh_from_db()
    assert case.first_response_at is not None and case.first_response_by == engagement.deputy
    assert case.status == Case.Status.RESPONDED
    first = case.first_response_at
    services.case_respond(acting_user=engagement.manager, case=case, body="Update")
    case.refresh_from_db()
    assert case.first_response_at == first


def test_a_provider_admins_response_stops_the_clock_and_records_who(premium):
    engagement, contact = premium
    admin = AdminFactory()
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject="Q"
    )
    event = services.case_respond(acting_user=admin, case=case, body="Answering for Max")
    case.refresh_from_db()
    assert (event.kind, event.actor, event.public) == (CaseEvent.Kind.RESPONSE, admin, True)
    assert case.first_response_at == event.created_at and case.first_response_by == admin
    assert case.status == Case.Status.RESPONDED
    # The customer is told; an admin's internal note is no response.
    assert Notification.objects.filter(user=contact, kind="case.comment").exists()
    other = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject="R"
    )
    services.case_comment(acting_user=admin, case=other, body="note", public=False)
    other.refresh_from_db()
    assert other.first_response_at is None
    services.case_comment(acting_user=admin, case=other, body="Public answer")
    other.refresh_from_db()
    assert other.first_response_by == admin


def test_internal_comments_are_not_customer_visible(premium):
    engagement, contact = premium
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject="Q"
    )
    event = services.case_comment(acting_user=contact, case=case, body="x", public=False)
    assert event.public  # customers cannot write internal notes
    internal = services.case_comment(
        acting_user=engagement.manager, case=case, body="note", public=False
    )
    assert not internal.public


def test_status_flow_and_reopen(premium):
    engagement, contact = premium
    case = services.case_raise(
        acting_user=contact,
        engagement=engagement,
        kind="service_request",
        severity=3,
        subject="New user",
    )
    manager = engagement.manager
    services.case_set_status(acting_user=manager, case=case, status="in_progress")
    services.case_set_status(acting_user=manager, case=case, status="awaiting_customer")
    services.case_comment(acting_user=contact, case=case, body="Here you go")
    case.refresh_from_db()
    assert case.status == "in_progress"
    with pytest.raises(InvalidInput):
        services.case_set_status(acting_user=manager, case=case, status="closed")
    services.case_resolve(acting_user=manager, case=case, note="Done")
    services.case_set_status(acting_user=contact, case=case, status="closed")
    case.refresh_from_db()
    assert case.status == "closed" and case.closed_at and case.resolved_at
    services.case_set_status(acting_user=contact, case=case, status="in_progress")
    case.refresh_from_db()
    assert case.status == "in_progress" and case.closed_at is None
    kinds = list(CaseEvent.objects.filter(case=case, kind="status").values_list("data", flat=True))
    assert [d["to"] for d in kinds] == [
        "in_progress",
        "awaiting_customer",
        "in_progress",
        "resolved",
        "closed",
        "in_progress",
    ]


def test_severity_zero_incident_needs_an_rca_to_close(premium):
    engagement, contact = premium
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="incident", severity=0, subject="Outage"
    )
    manager = engagement.manager
    services.case_resolve(acting_user=manager, case=case)
    with pytest.raises(Conflict) as excinfo:
        services.case_set_status(acting_user=manager, case=case, status="closed")
    assert "root cause" in excinfo.value.detail
    with pytest.raises(InvalidInput) as excinfo:
        services.case_record_rca(
            acting_user=manager,
            case=case,
            findings="Disk full",
            corrective_actions="Alerting",
            delivery_method="email",
            delivered_at=timezone.now(),
        )
    assert "delivery_method" in excinfo.value.fields  # Premium delivers RCAs by video or phone
    services.case_record_rca(
        acting_user=manager,
        case=case,
        findings="Disk full",
        corrective_actions="Alerting",
        delivery_method="video",
        delivered_at=timezone.now(),
    )
    services.case_set_status(acting_user=manager, case=case, status="closed")
    case.refresh_from_db()
    assert case.status == "closed"


def test_escalation_needs_the_entitlement(premium, standard):
    engagement, contact = premium
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="incident", severity=1, subject="Slow"
    )
    services.case_escalate(acting_user=contact, case=case, reason="Business impact")
    case.refresh_from_db()
    assert case.escalated_at is not None
    assert Notification.objects.filter(kind="case.escalated", user=engagement.manager).exists()
    with pytest.raises(Conflict):
        services.case_escalate(acting_user=contact, case=case)
    std_engagement, std_contact = standard
    std_case = services.case_raise(
        acting_user=std_contact,
        engagement=std_engagement,
        kind="incident",
        severity=1,
        subject="Slow",
    )
    with pytest.raises(NotEntitled) as excinfo:
        services.case_escalate(acting_user=std_contact, case=std_case)
    assert excinfo.value.code == "not_entitled" and excinfo.value.status_code == 403
    assert excinfo.value.fields == {"function": ["escalation_management"]}
    with pytest.raises(NotEntitled):
        services.case_set_priority(acting_user=std_engagement.manager, case=std_case, priority=1)
    services.case_set_priority(acting_user=engagement.manager, case=case, priority=1)


def fill_to_cap(manager, count=30):
    engagement = EngagementFactory(manager=manager)
    for n in range(count):
        Case.objects.create(
            engagement=engagement,
            kind="inquiry",
            severity=3,
            subject=f"load {n}",
            response_due_at=timezone.now(),
            reminder_due_at=timezone.now(),
            raised_by=manager,
            assignee=manager,
        )
    return engagement


def test_assigning_past_the_cap_is_refused(premium):
    engagement, contact = premium
    busy = engagement.deputy  # only the manager and the deputy may hold the item
    fill_to_cap(busy)
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject="Q"
    )
    with pytest.raises(ManagerCaseCapReached) as excinfo:
        services.case_assign(acting_user=engagement.manager, case=case, assignee=busy)
    assert excinfo.value.code == "manager_case_cap_reached" and "30" in excinfo.value.detail
    services.case_assign(acting_user=engagement.manager, case=case, assignee=None)
    case.refresh_from_db()
    assert case.assignee is None


def test_new_items_skip_a_manager_at_the_cap(premium):
    engagement, contact = premium
    fill_to_cap(engagement.manager)
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject="Q"
    )
    assert case.assignee == engagement.deputy
    fill_to_cap(engagement.deputy)
    queued = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject="Q2"
    )
    assert queued.assignee is None


@pytest.mark.django_db(transaction=True)
def test_cap_holds_under_concurrent_assignments(require_postgres, monkeypatch):
    """Two assignments racing for a manager's last slot on PostgreSQL: exactly one wins."""
    engagement, contact = engagement_with_contact("premium")
    target = engagement.deputy
    fill_to_cap(target, 29)
    cases = [
        services.case_raise(
            acting_user=contact,
            engagement=engagement,
            kind="inquiry",
            severity=2,
            subject=f"race {n}",
        )
        for n in range(2)
    ]
    original = services.open_case_count

    def slow_count(manager):
        count = original(manager)
        time.sleep(0.3)
        return count

    monkeypatch.setattr(services, "open_case_count", slow_count)
    barrier = threading.Barrier(2)
    outcomes = []

    def assign(case):
        try:
            with acting_as(engagement.manager):
                barrier.wait()
                services.case_assign(acting_user=engagement.manager, case=case, assignee=target)
            outcomes.append("assigned")
        except ManagerCaseCapReached:
            outcomes.append("manager_case_cap_reached")
        finally:
            connection.close()

    threads = [threading.Thread(target=assign, args=(case,)) for case in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["assigned", "manager_case_cap_reached"]
    assert services.open_case_count(target) == 30


def test_an_item_raised_with_a_refused_file_raises_nothing(premium):
    engagement, contact = premium
    fields = {"engagement": engagement, "kind": "inquiry", "severity": 2, "subject": "Q"}
    with pytest.raises(InvalidInput):
        services.case_raise_with_files(
            acting_user=contact,
            uploads=[SimpleUploadedFile("run.exe", b"MZ\x90\x00", content_type="image/png")],
            **fields,
        )
    assert not Case.objects.filter(subject="Q").exists()
    case = services.case_raise_with_files(
        acting_user=contact,
        uploads=[SimpleUploadedFile("screen.png", PNG_BYTES, content_type="image/png")],
        **fields,
    )
    assert [a.content_type for a in case.attachments.all()] == ["image/png"]


def test_attachments_are_checked(premium):
    engagement, contact = premium
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="inquiry", severity=2, subject="Q"
    )
    attachment = services.case_attach(
        acting_user=contact,
        case=case,
        upload=SimpleUploadedFile("screen.png", PNG_BYTES, content_type="image/png"),
    )
    assert attachment.content_type == "image/png" and attachment.public
    with pytest.raises(InvalidInput):
        services.case_attach(
            acting_user=contact,
            case=case,
            upload=SimpleUploadedFile("evil.png", b"<html><script>", content_type="image/png"),
        )
    assert case.attachments.count() == 1


def test_plan_gate_for_rca_on_standard_uses_email(standard):
    engagement, contact = standard
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="incident", severity=0, subject="Down"
    )
    services.case_record_rca(
        acting_user=engagement.manager,
        case=case,
        findings="f",
        corrective_actions="c",
        delivery_method="email",
        delivered_at=timezone.now(),
    )
    assert plan("standard").entitlements.filter(function__code="root_cause_analysis").exists()


def test_the_loads_shown_count_every_engagement_like_the_cap(premium):
    """The assign form and the managers' loads show `open_case_count`: across all engagements,
    also those the viewer does not serve (SPEC §3), not what the viewer's scope holds."""
    from cases.casework.forms import staff_with_load
    from cases.casework.selectors import manager_loads

    engagement, _contact = premium
    fill_to_cap(engagement.deputy, 3)  # in an engagement the manager does not serve
    with acting_as(engagement.manager):
        loads = {person.pk: person.open_items for person in staff_with_load(engagement)}
        assert loads[engagement.deputy.pk] == services.open_case_count(engagement.deputy) == 3
    with acting_as(AdminFactory()):
        managers, _cap = manager_loads()
    assert {person.pk: person.open_items for person in managers}[engagement.deputy.pk] == 3
