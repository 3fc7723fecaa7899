"""Cases by e-mail: who gets nothing, who gets one polite refusal a day (counted at a real SMTP
sink after the outbox is delivered), loops that stop, and tenants that stay apart."""

from __future__ import annotations

from datetime import date
from email.header import decode_header, make_header

import pytest

from cases.casework.models import Case, CaseEvent
from cases.mailin.addresses import engagement_address, reply_address
from cases.mailin.models import InboundMessage
from cases.mailin.services import Outcome, ingest_message
from engagements.contacts.models import Contact
from portal.notifications import OutboxEmail, deliver_outbox
from portal.tenancy.models import Membership
from tests.cases.conftest import engagement_with_contact
from tests.cases.test_mailin import INBOUND, mail
from tests.factories import EngagementFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _inbound_address(settings):
    settings.INBOUND_EMAIL_ADDRESS = INBOUND


def delivered(sink, to: str | None = None) -> list:
    """What reached the SMTP sink (for `to` only, when given) after the outbox is delivered."""
    deliver_outbox()
    return [m for m in sink.messages if to is None or m["To"] == to]


def text_of(message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode(message.get_content_charset() or "utf-8")


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_an_unknown_sender_gets_one_refusal_a_day_in_english(smtp_sink):
    for n in range(3):
        result = ingest_message(mail("stranger@elsewhere.test", f"Help {n}"))
        assert result.outcome == Outcome.REFUSED_UNKNOWN_SENDER
        assert result.refusal_sent is (n == 0)
    messages = delivered(smtp_sink)
    assert [m["To"] for m in messages] == ["stranger@elsewhere.test"]
    assert subject_of(messages[0]) == f"Your e-mail to {INBOUND} was not accepted"
    assert "Help 0" in text_of(messages[0])
    assert Case.objects.count() == 0
    assert InboundMessage.objects.filter(outcome="refused_unknown_sender").count() == 3


def test_a_refusal_is_marked_automatic_and_threads_on_the_message_it_answers(smtp_sink):
    """RFC 3834: the other side's machines must not answer it; mail clients thread it."""
    ingest_message(mail("stranger@elsewhere.test", "Help", message_id="<ask-1@customer.test>"))
    (refusal,) = delivered(smtp_sink)
    assert refusal["Auto-Submitted"] == "auto-replied"
    assert refusal["In-Reply-To"] == "<ask-1@customer.test>"
    assert refusal["References"] == "<ask-1@customer.test>"


def test_a_member_who_only_reads_is_refused_in_their_language(smtp_sink, premium):
    engagement, _contact = premium
    member = MembershipFactory(
        organization=engagement.organization, role=Membership.Role.MEMBER
    ).user
    member.language = "ko"
    member.save(update_fields=["language"])
    result = ingest_message(mail(member.email))
    assert result.outcome == Outcome.REFUSED_NOT_CONTACT
    assert Case.objects.count() == 0
    [message] = delivered(smtp_sink)
    assert subject_of(message) == f"{INBOUND}(으)로 보내신 이메일을 접수하지 못했습니다"
    assert "지정 고객 담당자" in text_of(message)


def test_an_engagement_outside_its_term_refuses_in_the_engagements_language(smtp_sink):
    engagement, contact = engagement_with_contact("premium")
    engagement.end_date = date(2026, 1, 31)
    engagement.start_date = date(2025, 1, 1)
    engagement.language = "ko"
    engagement.save()
    result = ingest_message(mail(contact.email))
    assert result.outcome == Outcome.REFUSED_NOT_IN_TERM
    assert Case.objects.count() == 0
    [message] = delivered(smtp_sink)
    assert "계약 기간이 끝났거나" in text_of(message)


def test_a_contact_of_two_engagements_chooses_by_address(smtp_sink, premium):
    first, contact = premium
    second = EngagementFactory(organization=first.organization)
    Contact.objects.create(engagement=second, user=contact)
    result = ingest_message(mail(contact.email))
    assert result.outcome == Outcome.REFUSED_CHOOSE_ENGAGEMENT
    assert Case.objects.count() == 0
    [message] = delivered(smtp_sink)
    body = text_of(message)
    assert engagement_address(first.pk) in body and engagement_address(second.pk) in body
    picked = ingest_message(mail(contact.email, to=engagement_address(second.pk)))
    assert picked.outcome == Outcome.CREATED_CASE
    assert Case.objects.get().engagement == second


def test_a_plus_address_of_another_organizations_engagement_writes_nothing_there(smtp_sink):
    mine, contact = engagement_with_contact("premium")
    theirs, _other = engagement_with_contact("premium")
    result = ingest_message(mail(contact.email, to=engagement_address(theirs.pk)))
    assert result.outcome == Outcome.REFUSED_CHOOSE_ENGAGEMENT
    assert not Case.objects.filter(engagement=theirs).exists()
    assert not InboundMessage.objects.filter(organization=theirs.organization).exists()
    assert len(delivered(smtp_sink, contact.email)) == 1
    assert mine.pk != theirs.pk


def test_a_reply_with_another_organizations_case_token_gets_nothing_into_it(smtp_sink):
    theirs, their_contact = engagement_with_contact("premium")
    _mine, contact = engagement_with_contact("premium")
    case = Case.objects.get(pk=ingest_message(mail(their_contact.email)).case_id)
    events = CaseEvent.objects.filter(case=case).count()
    by_token = ingest_message(mail(contact.email, "Re: hi", "me too", to=reply_address(case.pk)))
    by_subject = ingest_message(mail(contact.email, f"Re: [#{case.pk}] hi", "me too"))
    assert by_token.outcome == Outcome.REFUSED_UNKNOWN_CASE
    assert by_subject.outcome == Outcome.REFUSED_UNKNOWN_CASE
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.count() == 1
    assert not InboundMessage.objects.filter(
        organization=theirs.organization, sender=contact.email
    ).exists()
    # One refusal for the day, to the writer, naming nothing of the other tenant's item.
    [message] = delivered(smtp_sink, contact.email)
    assert case.subject not in text_of(message)


def test_a_member_cannot_comment_by_mail(smtp_sink, premium):
    engagement, contact = premium
    member = MembershipFactory(
        organization=engagement.organization, role=Membership.Role.MEMBER
    ).user
    case = Case.objects.get(pk=ingest_message(mail(contact.email)).case_id)
    result = ingest_message(mail(member.email, "Re: x", "mine", to=reply_address(case.pk)))
    assert result.outcome == Outcome.REFUSED_NOT_CONTACT
    assert not CaseEvent.objects.filter(case=case, kind="comment").exists()


AUTOMATIC = [
    {"Auto-Submitted": "auto-replied"},
    {"Auto-Submitted": "auto-generated"},
    {"Precedence": "bulk"},
    {"Precedence": "list"},
    {"Precedence": "junk"},
    {"X-Autoreply": "yes"},
    {"X-Auto-Response-Suppress": "All"},
    {"Return-Path": "<>"},
    {"List-Id": "<users.lists.example>"},
]


@pytest.mark.parametrize("headers", AUTOMATIC)
def test_machine_mail_creates_nothing_and_is_never_answered(smtp_sink, premium, headers):
    _engagement, contact = premium
    result = ingest_message(mail(contact.email, headers=headers))
    assert result.outcome == Outcome.IGNORED_AUTOMATIC
    stranger = ingest_message(mail("nobody@elsewhere.test", headers=headers))
    assert stranger.outcome == Outcome.IGNORED_AUTOMATIC
    assert Case.objects.count() == 0
    assert OutboxEmail.objects.count() == 0
    assert delivered(smtp_sink) == []


def test_auto_submitted_no_is_a_person(premium):
    _engagement, contact = premium
    result = ingest_message(mail(contact.email, headers={"Auto-Submitted": "no"}))
    assert result.outcome == Outcome.CREATED_CASE


def test_mailer_daemon_is_never_answered(smtp_sink):
    result = ingest_message(mail("MAILER-DAEMON@mx.elsewhere.test", "Undelivered Mail"))
    assert result.outcome == Outcome.IGNORED_AUTOMATIC
    assert delivered(smtp_sink) == []


def test_an_auto_reply_to_our_refusal_stops_the_loop(smtp_sink):
    """A stranger's out-of-office answers our refusal: nothing is created, nothing is sent, on
    this day or any other (the daily cap is not what stops it)."""
    ingest_message(mail("stranger@elsewhere.test"))
    [refusal] = delivered(smtp_sink)
    InboundMessage.objects.update(refusal_key=None)  # as if a day had passed
    out_of_office = mail(
        "stranger@elsewhere.test",
        f"Automatic reply: {subject_of(refusal)}",
        "I am out of the office until Monday.",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": refusal["Message-ID"] or "<x@y>"},
    )
    assert ingest_message(out_of_office).outcome == Outcome.IGNORED_AUTOMATIC
    assert len(delivered(smtp_sink)) == 1
    assert Case.objects.count() == 0


def test_mail_from_our_own_address_is_a_loop(smtp_sink):
    result = ingest_message(mail(INBOUND, "Your e-mail was not accepted"))
    assert result.outcome == Outcome.IGNORED_LOOP
    assert delivered(smtp_sink) == []


def test_a_manager_replying_by_mail_responds(premium):
    engagement, contact = premium
    case = Case.objects.get(pk=ingest_message(mail(contact.email)).case_id)
    result = ingest_message(
        mail(engagement.manager.email, "Re: x", "Restarted the service.", to=reply_address(case.pk))
    )
    assert result.outcome == Outcome.COMMENT_ADDED
    case.refresh_from_db()
    assert case.first_response_by == engagement.manager


def test_the_address_of_an_ended_engagement_is_refused_by_the_case_service(smtp_sink, premium):
    """A contact picks, by its address, one of their engagements whose term has ended: the case
    service's own term rule refuses it, and the refusal says why."""
    current, contact = premium
    ended = EngagementFactory(
        organization=current.organization, start_date=date(2025, 1, 1), end_date=date(2025, 12, 31)
    )
    Contact.objects.create(engagement=ended, user=contact)
    result = ingest_message(mail(contact.email, to=engagement_address(ended.pk)))
    assert result.outcome == Outcome.REFUSED_NOT_IN_TERM
    assert Case.objects.count() == 0
    [message] = delivered(smtp_sink, contact.email)
    assert "not active" in text_of(message)
