"""Cases by e-mail against real-world message shapes (tests/cases/mail_corpus/*.eml): Outlook
with MSO markup, Gmail, Apple Mail, Korean in every charset mail clients use, forwarded mail,
invitations, winmail.dat, bounces, auto-replies, lists, broken headers and encodings. Each one
is handled with its expected outcome, and none raises."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from cases.casework.models import Attachment, Case, CaseEvent
from cases.casework.services import case_raise
from cases.mailin.addresses import reply_address
from cases.mailin.services import Outcome, ingest_message
from engagements.contacts.models import Contact
from tests.cases.test_mailin import INBOUND, mail
from tests.factories import EngagementFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "mail_corpus"
SENDER = "kim.minji@customer.example"
SUBJECT = "Batch job fails"

CREATED = Outcome.CREATED_CASE
COMMENT = Outcome.COMMENT_ADDED
AUTOMATIC = Outcome.IGNORED_AUTOMATIC

# file: (outcome, what the item's subject is, what its text contains, what it must not contain)
EXPECTED: dict[str, tuple[Outcome, str | None, tuple[str, ...], tuple[str, ...]]] = {
    "01_outlook_html_mso.eml": (CREATED, "Nightly export job failed", ("ORA-01555",), ("mso",)),
    "02_outlook_html_only_mso.eml": (
        CREATED,
        "Cannot open the dashboard",
        ("blank page since the upgrade",),
        ("MsoNormal", "font-family", "shapedefaults", "<", "&nbsp;"),
    ),
    "03_gmail_alternative.eml": (CREATED, "Question about API rate limits", ("per-minute",), ()),
    "04_apple_mail_inline_image.eml": (CREATED, "Error dialog on login", ("OTP",), ()),
    "05_korean_euckr_b.eml": (CREATED, "결제 모듈 오류 문의", ("시간 초과 오류",), ()),
    "06_korean_utf8_q.eml": (CREATED, "로그인 지연 현상", ("30초 이상",), ()),
    "07_korean_utf8_b_folded.eml": (
        CREATED,
        "데이터베이스 백업 실패 알림에 대한 긴급 문의입니다",
        ("새벽 3시",),
        (),
    ),
    "08_ks_c_5601_1987.eml": (CREATED, "계정 잠금 해제 요청", ("홍길동 대리",), ()),
    "09_iso_2022_kr.eml": (CREATED, "서버 점검 일정 문의", ("서버 점검 일정",), ()),
    "10_forwarded_rfc822.eml": (
        CREATED,
        "Batch errors again",
        ("Forwarding Jun's report", "Batch errors again.eml"),
        (),
    ),
    "11_calendar_invitation.eml": (
        CREATED,
        "Invitation: Upgrade planning call",
        ("Tue 8 Dec",),
        ("BEGIN:VCALENDAR",),
    ),
    "12_winmail_dat.eml": (CREATED, "Log files attached", ("winmail.dat",), ()),
    "13_malformed_headers.eml": (CREATED, None, ("VPN drops",), ()),
    "14_missing_date.eml": (CREATED, "VPN certificate expired", ("expired today",), ()),
    "15_missing_message_id.eml": (CREATED, "Report download is slow", ("5 minutes",), ()),
    "16_8bit_without_charset.eml": (CREATED, "Encoding test", ("8비트 본문",), ()),
    "17_broken_base64.eml": (CREATED, "Broken encoding", ("crashes",), ()),
    "18_nested_multipart_5_deep.eml": (CREATED, "Nested parts", ("scheduler stopped",), ()),
    "19_empty_body.eml": (CREATED, "Please call me", (), ()),
    "20_only_attachment.eml": (CREATED, "Scan of the signed form", (), ()),
    "21_html_only_script_style.eml": (
        CREATED,
        "Page shows an error",
        ("error 500 & a blank screen", "Chrome 131"),
        ("alert", "document.cookie", "javascript", "background", "ignored title", "<"),
    ),
    "22_very_long_subject.eml": (CREATED, None, ("says it all",), ()),
    "23_bounce_dsn.eml": (AUTOMATIC, None, (), ()),
    "24_auto_reply_out_of_office.eml": (AUTOMATIC, None, (), ()),
    "25_list_mail.eml": (AUTOMATIC, None, (), ()),
    "26_exchange_oof.eml": (AUTOMATIC, None, (), ()),
    "27_reply_gmail_quoted.eml": (COMMENT, None, ("The restart fixed it, thank you.",), ()),
    "28_reply_outlook_original_message.eml": (
        COMMENT,
        None,
        ("Still failing after the patch.",),
        ("Original Message", "We deployed"),
    ),
    "29_reply_korean_attribution.eml": (
        COMMENT,
        None,
        ("확인했습니다. 오늘 오후에 다시 시도해 보겠습니다.",),
        ("작성", "패치"),
    ),
    "30_reply_outlook_from_block_html.eml": (
        COMMENT,
        None,
        ("Works now. Please close it.",),
        ("From:", "We deployed"),
    ),
    "31_reply_by_subject_tag.eml": (
        COMMENT,
        None,
        ("Adding: it also happens on the staging system.",),
        ("ACME", "+82"),
    ),
    "32_unknown_sender.eml": (Outcome.REFUSED_UNKNOWN_SENDER, None, (), ()),
    "33_no_from.eml": (Outcome.IGNORED_NO_SENDER, None, (), ()),
    "34_binary_garbage.eml": (Outcome.IGNORED_NO_SENDER, None, (), ()),
    "35_raw_utf8_headers.eml": (CREATED, "인코딩 없는 한글 제목", ("인코딩되지 않았습니다",), ()),
    "36_rfc2231_korean_filename.eml": (CREATED, "Contract scan", ("signed contract",), ()),
    "37_disguised_executable.eml": (CREATED, "Screenshot", ("screenshot.png",), ()),
    "38_vacation_precedence_junk.eml": (AUTOMATIC, None, (), ()),
    "39_reply_only_quote.eml": (Outcome.IGNORED_EMPTY_REPLY, None, (), ()),
    "40_reply_korean_outlook_with_png.eml": (
        COMMENT,
        None,
        ("요청하신 화면 캡처를 첨부합니다.",),
        ("보낸 사람", "화면을 보내"),
    ),
}

# file: names of the files kept on the item
KEPT = {
    "04_apple_mail_inline_image.eml": ["Screenshot 2026-12-01 at 10.20.11.png"],
    "20_only_attachment.eml": ["form.pdf"],
    "36_rfc2231_korean_filename.eml": ["계약서.pdf"],
    "40_reply_korean_outlook_with_png.eml": ["capture.png"],
}
DROPPED = {
    "10_forwarded_rfc822.eml": 1,
    "11_calendar_invitation.eml": 1,
    "12_winmail_dat.eml": 1,
    "17_broken_base64.eml": 1,  # what decodes of it is not a PDF any more
    "37_disguised_executable.eml": 1,
}


@pytest.fixture(autouse=True)
def _inbound_address(settings):
    settings.INBOUND_EMAIL_ADDRESS = INBOUND


@pytest.fixture
def contact():
    engagement = EngagementFactory()
    user = UserFactory(email=SENDER)
    MembershipFactory(organization=engagement.organization, user=user)
    Contact.objects.create(engagement=engagement, user=user)
    return user


def test_the_corpus_is_complete():
    assert sorted(path.name for path in CORPUS.glob("*.eml")) == sorted(EXPECTED)
    assert len(EXPECTED) >= 30


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_message_is_handled_as_expected(name, contact):
    outcome, subject, contains, lacks = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    case = None
    if outcome in (COMMENT, Outcome.IGNORED_EMPTY_REPLY):
        engagement = Contact.objects.get(user=contact).engagement
        case = case_raise(
            acting_user=contact,
            engagement=engagement,
            kind="inquiry",
            severity=2,
            subject=SUBJECT,
        )
        raw = (
            raw.replace(b"%%REPLY_TO%%", reply_address(case.pk).encode())
            .replace(b"%%CASE%%", str(case.pk).encode())
            .replace(b"%%SUBJECT%%", SUBJECT.encode())
        )
    result = ingest_message(raw)
    assert result.outcome == outcome, result
    assert len(result.dropped) == DROPPED.get(name, 0), result.dropped
    if outcome == CREATED:
        case = Case.objects.get(pk=result.case_id)
        assert case.raised_by == contact
        if subject is not None:
            assert case.subject == subject
        assert 0 < len(case.subject) <= 200
        text = case.description
    elif outcome == COMMENT:
        assert result.case_id == case.pk
        text = CaseEvent.objects.filter(case=case, kind="comment").get().body
    else:
        assert Case.objects.exclude(pk=getattr(case, "pk", None)).count() == 0
        assert not CaseEvent.objects.filter(kind="comment").exists()
        text = ""
    for expected in contains:
        assert expected in text
    for unexpected in lacks:
        assert unexpected not in text
    if case is not None:
        kept = sorted(a.original_name for a in Attachment.objects.filter(case=case))
        assert kept == sorted(KEPT.get(name, []))
    # Handled once: the same message again creates nothing more.
    again = ingest_message(raw)
    assert again.outcome == Outcome.DUPLICATE


def test_a_long_subject_is_cut_to_the_field(contact):
    result = ingest_message((CORPUS / "22_very_long_subject.eml").read_bytes())
    subject = Case.objects.get(pk=result.case_id).subject
    assert len(subject) == 200 and subject.startswith("Very long subject word0 word1")


def test_a_9_mb_attachment_is_kept_and_an_11_mb_one_dropped_without_losing_the_item(contact):
    nine = b"%PDF-1.7\n" + b"0" * (9 * 1024 * 1024)
    eleven = b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024)
    result = ingest_message(
        mail(
            contact.email,
            "Full heap dump and logs",
            files=[("logs.pdf", "application/pdf", nine), ("dump.pdf", "application/pdf", eleven)],
        )
    )
    assert result.outcome == CREATED
    case = Case.objects.get(pk=result.case_id)
    [kept] = Attachment.objects.filter(case=case)
    assert kept.original_name == "logs.pdf" and kept.size == len(nine)
    assert "dump.pdf" in case.description and "10240 KB" in case.description


def _mutated(seed: int) -> bytes:
    """A corpus message broken the ways transport and bad clients break mail: bytes flipped,
    markers inserted (encoded-word starts, boundaries, angle brackets), pieces cut, truncated."""
    rnd = random.Random(seed)
    raw = bytearray(rnd.choice(sorted(CORPUS.glob("*.eml"))).read_bytes())
    inserts = [b"=?", b"?=", b"\r\n", b"\n ", b"<", b">", b"@", b";", b'"', b"--", b"=?utf-8?b?"]
    inserts += [b"=?x?q?", b":", b"\x00", b"Content-Type: multipart/mixed; boundary=x\n"]
    for _ in range(rnd.randint(1, 8)):
        position = rnd.randrange(len(raw)) if raw else 0
        choice = rnd.random()
        if choice < 0.4 and raw:
            raw[position] = rnd.randrange(256)
        elif choice < 0.6:
            raw[position:position] = rnd.choice(inserts)
        elif choice < 0.8:
            del raw[position : position + rnd.randint(1, 50)]
        else:
            del raw[position:]
    return bytes(raw)


def test_broken_variants_of_the_corpus_never_raise(contact):
    """Mangled messages: each is handled with some outcome, none raises, none is half-written
    (an item exists exactly for each message said to have created one)."""
    created = 0
    for seed in range(60):
        result = ingest_message(_mutated(seed))
        assert isinstance(result.outcome, Outcome)
        created += result.outcome == CREATED
    assert Case.objects.count() == created
