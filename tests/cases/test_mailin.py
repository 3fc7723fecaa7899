"""Cases by e-mail (cases/mailin): new items, replies, refusals, loops, isolation, duplicates."""

from __future__ import annotations

from datetime import UTC, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.utils import timezone

from cases.casework.models import Attachment, Case, CaseEvent
from cases.casework.services import case_set_status
from cases.mailin.addresses import (
    case_id_from_address,
    case_id_from_subject,
    engagement_address,
    engagement_reference_from_address,
    reply_address,
)
from cases.mailin.models import InboundMessage
from cases.mailin.parsing import html_to_text, new_text_of_reply
from cases.mailin.services import Outcome, ingest_message
from cases.sla import response_deadlines
from engagements.contacts.models import Contact
from portal.audit import AuditEntry
from portal.notifications import Notification
from tests.conftest import PNG_BYTES

pytestmark = pytest.mark.django_db

INBOUND = "support@portal.example"


@pytest.fixture(autouse=True)
def _inbound_address(settings):
    settings.INBOUND_EMAIL_ADDRESS = INBOUND


def mail(
    sender: str,
    subject: str = "Login fails",
    body: str = "Since this morning nobody can sign in.",
    *,
    to: str = INBOUND,
    headers: dict[str, str] | None = None,
    files: list[tuple[str, str, bytes]] = (),
    message_id: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="customer.test")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for name, content_type, data in files:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


# --- addresses ---------------------------------------------------------------------------------


def test_reply_address_round_trips_and_refuses_a_forged_signature():
    address = reply_address(42)
    assert address.startswith("support+c42.") and address.endswith("@portal.example")
    assert case_id_from_address(address) == 42
    assert case_id_from_address(f"Support <{address.upper()}>") == 42
    forged = address.replace("+c42.", "+c43.")
    assert case_id_from_address(forged) is None
    assert case_id_from_address("support+c42.0000000000@portal.example") is None
    assert case_id_from_address(address.replace("portal.example", "elsewhere.example")) is None
    assert case_id_from_address("someone@portal.example") is None


def test_engagement_and_subject_references():
    assert engagement_reference_from_address(engagement_address(7)) == "7"
    assert engagement_reference_from_address(INBOUND) is None
    assert engagement_reference_from_address("other+e7@portal.example") is None
    assert case_id_from_subject("RE: [#12] Login fails") == 12
    assert case_id_from_subject("Login fails #12") is None


def test_the_default_address_is_support_at_the_site_host(settings):
    settings.INBOUND_EMAIL_ADDRESS = ""
    settings.SITE_URL = "https://portal.vendor.example:8443"
    assert reply_address(5).endswith("@portal.vendor.example")
    assert reply_address(5).startswith("support+c5.")


# --- new items ---------------------------------------------------------------------------------


def test_a_contact_raises_an_item_on_their_engagement(premium):
    engagement, contact = premium
    received = timezone.now() - timedelta(hours=3)
    result = ingest_message(mail(contact.email), received_at=received)
    assert result.outcome == Outcome.CREATED_CASE
    case = Case.objects.get(pk=result.case_id)
    assert case.engagement == engagement
    assert case.raised_by == contact
    assert case.subject == "Login fails"
    assert "nobody can sign in" in case.description
    assert case.received_at == received
    assert case.assignee == engagement.manager  # the case service's rules ran
    # The response objective runs from when the message reached us, not from now.
    assert case.response_due_at == response_deadlines(engagement, received)[1]
    assert InboundMessage.objects.get(case=case).outcome == "created_case"
    entry = AuditEntry.objects.get(action="case.raise", object_id=str(case.pk))
    assert entry.actor == contact and entry.after["channel"] == "email"
    assert Notification.objects.filter(user=engagement.manager, kind="case.raised").exists()


def test_a_contact_cannot_push_received_at_into_the_future(premium):
    _engagement, contact = premium
    later = timezone.now() + timedelta(days=2)
    result = ingest_message(mail(contact.email), received_at=later)
    assert Case.objects.get(pk=result.case_id).received_at <= timezone.now()


def test_reply_prefixes_are_dropped_from_a_new_items_subject(premium):
    _engagement, contact = premium
    result = ingest_message(mail(contact.email, "FW: RE: 회신: Disk full"))
    assert Case.objects.get(pk=result.case_id).subject == "Disk full"


def test_a_message_without_a_subject_gets_one_in_the_engagements_language(premium):
    engagement, contact = premium
    engagement.language = "ko"
    engagement.save(update_fields=["language"])
    result = ingest_message(mail(contact.email, ""))
    assert Case.objects.get(pk=result.case_id).subject == "(제목 없음)"


def test_a_removed_contact_cannot_raise_by_mail(premium):
    engagement, contact = premium
    Contact.objects.filter(user=contact).update(removed_at=timezone.now())
    result = ingest_message(mail(contact.email))
    assert result.outcome == Outcome.REFUSED_NOT_CONTACT
    assert not Case.objects.filter(engagement=engagement).exists()


def test_an_attachment_is_kept_and_a_refused_one_noted(premium):
    _engagement, contact = premium
    raw = mail(
        contact.email,
        files=[
            ("screen.png", "image/png", PNG_BYTES),
            ("tool.exe", "application/octet-stream", b"MZ\x90\x00"),
        ],
    )
    result = ingest_message(raw)
    assert result.outcome == Outcome.CREATED_CASE
    case = Case.objects.get(pk=result.case_id)
    assert [a.original_name for a in Attachment.objects.filter(case=case)] == ["screen.png"]
    assert "tool.exe" in case.description
    assert result.dropped and "tool.exe" in result.dropped[0]


def test_a_duplicate_message_creates_one_item(premium):
    _engagement, contact = premium
    raw = mail(contact.email)
    assert ingest_message(raw).outcome == Outcome.CREATED_CASE
    assert ingest_message(raw).outcome == Outcome.DUPLICATE
    assert Case.objects.count() == 1


# --- replies -----------------------------------------------------------------------------------


def test_a_reply_becomes_a_comment_and_ends_awaiting_customer(premium):
    engagement, contact = premium
    case = Case.objects.get(pk=ingest_message(mail(contact.email)).case_id)
    case_set_status(acting_user=engagement.manager, case=case, status="awaiting_customer")
    body = (
        "It works again, thanks.\n\n-- \nKim\n\nOn Mon, 1 Dec 2026 at 10:00, Portal wrote:\n> old"
    )
    result = ingest_message(mail(contact.email, "Re: Login fails", body, to=reply_address(case.pk)))
    assert result.outcome == Outcome.COMMENT_ADDED
    case.refresh_from_db()
    assert case.status == "in_progress"
    comment = CaseEvent.objects.filter(case=case, kind="comment").get()
    assert comment.body == "It works again, thanks."
    assert comment.public


def test_quoted_history_and_signatures_are_trimmed():
    assert new_text_of_reply("Yes.\n\n-----Original Message-----\nFrom: x") == "Yes."
    assert new_text_of_reply("Yes.\n\nFrom: Portal <p@x>\nSent: Monday\nTo: me") == "Yes."
    assert (
        new_text_of_reply(
            "네, 확인했습니다.\n\n2026년 12월 1일 (월) 오전 10:00, 포털 <p@x>님이 작성:\n> 이전"
        )
        == "네, 확인했습니다."
    )
    assert new_text_of_reply("Ok\n> quoted\nmore") == "Ok\nmore"
    assert new_text_of_reply("Ok\n--\nKim, ACME") == "Ok"
    assert new_text_of_reply("From: my team we saw it too.") == "From: my team we saw it too."


def test_html_is_text_without_script_or_style():
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
        "<body><p>Hi</p><p>there<br>you</p></body></html>"
    )
    assert html_to_text(html) == "Hi\n\nthere\nyou"


def test_a_manager_writing_a_new_message_raises_nothing(premium):
    """Staff raise items in the portal (they choose the customer's engagement there); a new
    message from them is refused, not filed on whichever engagement they serve."""
    engagement, _contact = premium
    result = ingest_message(mail(engagement.manager.email))
    assert result.outcome == Outcome.REFUSED_NOT_CONTACT
    assert Case.objects.count() == 0


def test_an_empty_plain_part_beside_html_reads_the_html(premium):
    _engagement, contact = premium
    message = EmailMessage()
    message["From"] = contact.email
    message["To"] = INBOUND
    message["Subject"] = "Printer offline"
    message.set_content("\n")
    message.add_alternative("<p>The <b>printer</b> is offline.</p>", subtype="html")
    result = ingest_message(message.as_bytes())
    assert Case.objects.get(pk=result.case_id).description == "The printer is offline."


def test_a_strangers_message_id_does_not_block_a_contacts_message(premium):
    _engagement, contact = premium
    message_id = "<CAF7shared-1@mail.gmail.com>"
    ingest_message(mail("stranger@elsewhere.test", message_id=message_id))
    result = ingest_message(mail(contact.email, message_id=message_id))
    assert result.outcome == Outcome.CREATED_CASE
    assert ingest_message(mail(contact.email, message_id=message_id)).outcome == "duplicate"


def test_a_naive_receipt_time_is_read_as_utc(premium):
    _engagement, contact = premium
    naive = (timezone.now() - timedelta(hours=1)).astimezone(UTC).replace(tzinfo=None)
    result = ingest_message(mail(contact.email), received_at=naive)
    assert Case.objects.get(pk=result.case_id).received_at == naive.replace(tzinfo=UTC)


def test_a_dropped_attachment_is_noted_in_the_engagements_language(premium):
    engagement, contact = premium
    engagement.language = "ko"
    engagement.save(update_fields=["language"])
    raw = mail(contact.email, files=[("setup.exe", "application/octet-stream", b"MZ\x90\x00")])
    case = Case.objects.get(pk=ingest_message(raw).case_id)
    assert "받지 못한 첨부 파일" in case.description and "setup.exe" in case.description
    assert "Only these file types" not in case.description
