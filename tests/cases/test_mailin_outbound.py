"""Outbound e-mail about a case is threaded (cases/mailin/outbound.py), counted at a real SMTP
server: Reply-To the case's signed address, its own stable Message-ID, In-Reply-To and
References naming the case's root (and the customer's first e-mail), `[#id]` in the subject;
and a reply built from the delivered message comes back to the right case. Headers set on an
outbox e-mail cannot inject others."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

import pytest

from cases.casework.models import Case, CaseEvent
from cases.casework.services import case_comment, case_raise
from cases.mailin.addresses import reply_address
from cases.mailin.outbound import case_thread
from cases.mailin.services import Outcome, ingest_message
from portal.notifications import (
    OutboxEmail,
    deliver_outbox,
    notify_claimed,
    outbox_resend,
    queue_email,
)
from tests.cases.conftest import engagement_with_contact

pytestmark = pytest.mark.django_db

INBOUND = "support@portal.example"


@pytest.fixture(autouse=True)
def _inbound_address(settings):
    settings.INBOUND_EMAIL_ADDRESS = INBOUND


def first_mail(sender: str, message_id: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = INBOUND
    message["Subject"] = "Exports are empty"
    message["Message-ID"] = message_id
    message.set_content("Every CSV export since Monday has no rows.")
    return message.as_bytes()


def header(message, name: str) -> str:
    """A header of a received message, unfolded."""
    return " ".join(str(message[name]).split())


def reply_to(delivered, sender: str, body: str) -> bytes:
    """What a mail client sends when the customer presses Reply on the delivered message."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = header(delivered, "Reply-To")
    reply["Subject"] = f"Re: {header(delivered, 'Subject')}"
    reply["Message-ID"] = make_msgid(domain="customer.test")
    reply["In-Reply-To"] = header(delivered, "Message-ID")
    reply["References"] = f"{header(delivered, 'References')} {header(delivered, 'Message-ID')}"
    reply.set_content(f"{body}\n\nOn Tue, Portal wrote:\n> {delivered.get_payload()[:40]}")
    return reply.as_bytes()


def test_a_response_is_threaded_and_the_reply_to_it_lands_on_the_case(smtp_sink):
    engagement, contact = engagement_with_contact("premium")
    original = make_msgid(domain="customer.test")
    result = ingest_message(first_mail(contact.email, original))
    assert result.outcome == Outcome.CREATED_CASE
    case = Case.objects.get(pk=result.case_id)
    other, _other_contact = engagement_with_contact("premium")  # a case the reply must not reach
    OutboxEmail.objects.all().delete()  # the new-item notice to the manager: not under test

    case_comment(acting_user=engagement.manager, case=case, body="Fixed in 4.2.1, please retry.")
    assert deliver_outbox() == (1, 0)
    [delivered] = smtp_sink.messages
    assert delivered["To"] == contact.email
    assert delivered["Subject"].startswith(f"[#{case.pk}] ")
    assert delivered["Reply-To"] == reply_address(case.pk)
    assert re.fullmatch(
        rf"<portal\.case-{case.pk}\.[0-9a-f]{{32}}@portal\.example>", delivered["Message-ID"]
    )
    assert delivered["In-Reply-To"] == original
    assert header(delivered, "References").split() == [original, f"<case-{case.pk}@portal.example>"]

    answer = ingest_message(reply_to(delivered, contact.email, "Works now, thank you."))
    assert answer.outcome == Outcome.COMMENT_ADDED
    assert answer.case_id == case.pk
    comment = CaseEvent.objects.get(case=case, kind="comment")
    assert comment.body == "Works now, thank you."
    assert comment.actor == contact
    assert not CaseEvent.objects.filter(case__engagement=other, kind="comment").exists()


def test_a_case_raised_in_the_portal_threads_on_its_root_and_resends_keep_the_message_id(
    smtp_sink,
):
    engagement, contact = engagement_with_contact("premium")
    case = case_raise(
        acting_user=contact,
        engagement=engagement,
        kind=Case.Kind.INQUIRY,
        severity=2,
        subject="Slow dashboard",
        description="It takes a minute to load.",
    )
    assert deliver_outbox() == (1, 0)
    [first] = smtp_sink.messages
    root = f"<case-{case.pk}@portal.example>"
    assert first["To"] == engagement.manager.email
    assert first["In-Reply-To"] == root and first["References"] == root
    assert first["Reply-To"] == reply_address(case.pk)
    assert first["Subject"].startswith(f"[#{case.pk}] New inquiry #{case.pk}")

    outbox_resend([OutboxEmail.objects.get().pk])  # an operator sends it again
    assert deliver_outbox() == (1, 0)
    assert smtp_sink.messages[1]["Message-ID"] == first["Message-ID"]  # the same message


def test_every_e_mail_of_a_notification_has_its_own_message_id():
    engagement, contact = engagement_with_contact("premium")
    case = case_raise(
        acting_user=contact,
        engagement=engagement,
        kind=Case.Kind.INQUIRY,
        severity=2,
        subject="Two readers",
        description="",
    )
    OutboxEmail.objects.all().delete()
    thread = case_thread(case.pk)
    notify_claimed(
        [
            (
                [engagement.manager, engagement.deputy, contact],
                f"test:{case.pk}",
                "/",
                engagement,
                lambda: ("Heads up", "Body"),
                thread,
            )
        ],
        kind="case.comment",
    )
    rows = list(OutboxEmail.objects.all())
    assert len(rows) == len({engagement.manager, engagement.deputy, contact} - {None})
    assert len({row.headers["Message-ID"] for row in rows}) == len(rows)
    assert all(row.subject == f"[#{case.pk}] Heads up" for row in rows)


def test_outbox_headers_cannot_inject_other_headers(smtp_sink):
    queue_email(
        to="someone@example.test",
        subject="Hello\r\nBcc: victim@example.test",
        body="Hi",
        language="en",
        headers={
            "Reply-To": "support@portal.example\r\nBcc: victim@example.test",
            "Message-ID": "<a@portal.example>\r\nX-Injected: 1",
            "References": "<a@x.example>\n<b@y.example> junk",
            "X-Mailer-Injected": "not allowed",
            "Bcc": "victim@example.test",
        },
    )
    assert deliver_outbox() == (1, 0)
    [message] = smtp_sink.messages
    raw = message.as_string()
    assert "Bcc" not in message and "X-Injected" not in message
    assert "X-Mailer-Injected" not in message
    assert not re.search(r"^(Bcc|X-Injected):", raw, re.MULTILINE)
    assert message["Message-ID"] == "<a@portal.example>"
    assert header(message, "References") == "<a@x.example> <b@y.example>"
    assert message["Reply-To"].startswith("support@portal.example")
    assert "\n" not in message["Subject"]


def test_a_request_by_e_mail_is_acknowledged_in_the_customers_thread(smtp_sink):
    """The receipt every helpdesk sends: the item's number and its response objective, under
    the customer's own e-mail in their client, marked automatic; a reply to it adds to the item;
    the manager's notice of the new item names the customer's e-mail too."""
    from tests.cases.test_mailin_refusals import subject_of, text_of

    engagement, contact = engagement_with_contact("premium")
    contact.time_zone = "Asia/Seoul"
    contact.save(update_fields=["time_zone"])
    original = make_msgid(domain="customer.test")
    result = ingest_message(first_mail(contact.email, original))
    case = Case.objects.get(pk=result.case_id)
    assert deliver_outbox() == (2, 0)
    by_recipient = {message["To"]: message for message in smtp_sink.messages}
    receipt, notice = by_recipient[contact.email], by_recipient[engagement.manager.email]
    root = f"<case-{case.pk}@portal.example>"

    assert subject_of(receipt) == f"[#{case.pk}] Received: Exports are empty"
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["Reply-To"] == reply_address(case.pk)
    assert receipt["In-Reply-To"] == original
    assert header(receipt, "References").split() == [original, root]
    body = text_of(receipt)
    assert f"item #{case.pk} of {engagement}" in body
    assert f"/cases/{case.pk}/" in body
    due = case.response_due_at.astimezone(ZoneInfo("Asia/Seoul"))
    assert f"{due:%H:%M}" in body and "KST" in body  # in the customer's own zone
    # The first notice of the item already threads on the customer's e-mail.
    assert header(notice, "References").split() == [original, root]

    answer = ingest_message(reply_to(receipt, contact.email, "One more detail: only XLSX."))
    assert answer.outcome == Outcome.COMMENT_ADDED and answer.case_id == case.pk


def test_the_receipt_is_in_the_engagements_language(smtp_sink):
    from tests.cases.test_mailin_refusals import subject_of, text_of

    engagement, contact = engagement_with_contact("premium")
    engagement.language = "ko"
    engagement.save(update_fields=["language"])
    result = ingest_message(first_mail(contact.email, make_msgid(domain="customer.test")))
    deliver_outbox()
    [receipt] = [m for m in smtp_sink.messages if m["To"] == contact.email]
    assert subject_of(receipt) == f"[#{result.case_id}] 접수됨: Exports are empty"
    assert f"#{result.case_id}" in text_of(receipt) and "접수" in text_of(receipt)


def test_a_refused_or_ignored_message_gets_no_receipt(smtp_sink):
    _engagement, contact = engagement_with_contact("premium")
    auto = EmailMessage()
    auto["From"] = contact.email
    auto["To"] = INBOUND
    auto["Subject"] = "Out of office"
    auto["Auto-Submitted"] = "auto-replied"
    auto.set_content("I am away.")
    assert ingest_message(auto.as_bytes()).outcome == Outcome.IGNORED_AUTOMATIC
    deliver_outbox()
    assert smtp_sink.messages == []
