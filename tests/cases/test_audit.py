"""Every case service writes one audit entry: who, the action, the item, its organization, and
before/after of the fields it changed (README: cases are in the audit trail). The timeline
(CaseEvent) is the customer's view and is not what these tests read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cases.casework import services
from cases.casework.models import Case, CaseEvent
from portal.audit import AuditEntry
from tests.cases.conftest import engagement_with_contact
from tests.conftest import PNG_BYTES

pytestmark = pytest.mark.django_db


def iso(value: Any) -> str:
    return value.isoformat()


def raise_(engagement, contact):
    case = services.case_raise(
        acting_user=contact, engagement=engagement, kind="incident", severity=0, subject="Outage"
    )
    expected_after = {
        "status": "new",
        "assignee": engagement.manager_id,
        "kind": "incident",
        "severity": 0,
        "subject": "Outage",
        "received_at": iso(case.received_at),
        "response_due_at": iso(case.response_due_at),
    }
    return case, contact, "case.raise", None, expected_after


def respond(engagement, contact, case):
    event = services.case_respond(acting_user=engagement.manager, case=case, body="On it")
    case.refresh_from_db()
    return (
        engagement.manager,
        "case.respond",
        {"status": "new", "first_response_at": None, "first_response_by": None},
        {
            "status": "responded",
            "first_response_at": iso(case.first_response_at),
            "first_response_by": engagement.manager_id,
            "event": event.pk,
            "public": True,
        },
    )


def comment(engagement, contact, case):
    event = services.case_comment(acting_user=contact, case=case, body="Any news?")
    return contact, "case.comment", None, {"event": event.pk, "public": True}


def set_status(engagement, contact, case):
    services.case_set_status(acting_user=engagement.manager, case=case, status="in_progress")
    return engagement.manager, "case.status", {"status": "new"}, {"status": "in_progress"}


def resolve(engagement, contact, case):
    services.case_resolve(acting_user=engagement.manager, case=case, note="Fixed")
    case.refresh_from_db()
    return (
        engagement.manager,
        "case.status",
        {"status": "new", "resolved_at": None},
        {"status": "resolved", "resolved_at": iso(case.resolved_at)},
    )


def assign(engagement, contact, case):
    services.case_assign(acting_user=engagement.manager, case=case, assignee=engagement.deputy)
    return (
        engagement.manager,
        "case.assign",
        {"assignee": engagement.manager_id},
        {"assignee": engagement.deputy_id},
    )


def escalate(engagement, contact, case):
    services.case_escalate(acting_user=contact, case=case, reason="Still down")
    case.refresh_from_db()
    return (
        contact,
        "case.escalate",
        {"escalated_at": None, "escalated_by": None},
        {"escalated_at": iso(case.escalated_at), "escalated_by": contact.pk},
    )


def set_priority(engagement, contact, case):
    services.case_set_priority(acting_user=engagement.manager, case=case, priority=2)
    return engagement.manager, "case.priority", {"priority": None}, {"priority": 2}


def record_rca(engagement, contact, case):
    delivered_at = timezone.now()
    rca = services.case_record_rca(
        acting_user=engagement.manager,
        case=case,
        findings="Disk full",
        corrective_actions="Alerting",
        delivery_method="video",
        delivered_at=delivered_at,
    )
    return (
        engagement.manager,
        "case.rca",
        None,
        {"rca": rca.pk, "delivery_method": "video", "delivered_at": iso(delivered_at)},
    )


def attach(engagement, contact, case):
    attachment = services.case_attach(
        acting_user=contact,
        case=case,
        upload=SimpleUploadedFile("screen.png", PNG_BYTES, content_type="image/png"),
    )
    return (
        contact,
        "case.attach",
        None,
        {"attachment": attachment.pk, "name": "screen.png", "public": True},
    )


Change = Callable[[Any, Any, Case], tuple[Any, str, dict | None, dict]]


@pytest.mark.parametrize(
    "change",
    [respond, comment, set_status, resolve, assign, escalate, set_priority, record_rca, attach],
)
def test_every_case_service_writes_an_audit_entry(change: Change):
    engagement, contact = engagement_with_contact("premium")
    case, *_ = raise_(engagement, contact)
    already = set(AuditEntry.objects.values_list("id", flat=True))

    actor, action, before, after = change(engagement, contact, case)

    [entry] = AuditEntry.objects.exclude(id__in=already)
    assert (entry.actor, entry.action, entry.before, entry.after) == (actor, action, before, after)
    assert (entry.object_type, entry.object_id) == ("cases.case", str(case.pk))
    assert entry.organization_id == engagement.organization_id


def test_raising_an_item_writes_an_audit_entry():
    engagement, contact = engagement_with_contact("premium")
    case, actor, action, before, after = raise_(engagement, contact)
    [entry] = AuditEntry.objects.filter(object_type="cases.case")
    assert (entry.actor, entry.action, entry.before, entry.after) == (actor, action, before, after)
    assert (entry.object_id, entry.organization_id) == (str(case.pk), engagement.organization_id)


def test_the_timeline_is_not_the_audit_trail():
    """A customer reopening an item answers in the timeline and in the audit trail, each once."""
    engagement, contact = engagement_with_contact("premium")
    case, *_ = raise_(engagement, contact)
    services.case_set_status(acting_user=engagement.manager, case=case, status="awaiting_customer")
    services.case_comment(acting_user=contact, case=case, body="Here are the logs")
    entry = AuditEntry.objects.filter(action="case.comment").get()
    assert (entry.before, entry.after["status"]) == ({"status": "awaiting_customer"}, "in_progress")
    assert CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STATUS).count() == 2
