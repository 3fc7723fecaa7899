"""The IMAP poller (cases/mailin/imap.py) against a real IMAP server (Debian's dovecot, started
by the test with its own configuration): messages become items and comments and move to the
done folder; two pollers at once, or a poller killed mid-run and run again, handle each message
once; a message that keeps failing goes to the failed folder without blocking the others; the
URL is checked at startup."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.db import OperationalError, connection, connections

from cases.casework.models import Case, CaseEvent
from cases.casework.services import case_comment
from cases.mailin.addresses import reply_address
from cases.mailin.imap import parse_internaldate, poll_mailbox
from cases.mailin.imap_url import ImapUrlError, parse_imap_url
from cases.mailin.models import InboundMessage
from cases.mailin.services import ingest_message
from portal.notifications import OutboxEmail, deliver_outbox
from tests.cases.conftest import engagement_with_contact
from tests.conftest import need_service
from tests.imap import USER, Dovecot, dovecot_available

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
INBOUND = "support@portal.example"


@pytest.fixture(autouse=True)
def _inbound(settings):
    settings.INBOUND_EMAIL_ADDRESS = INBOUND
    settings.INBOUND_IMAP_MAX_ATTEMPTS = 3


def start_dovecot(tls: str = "") -> Dovecot:
    need_service(dovecot_available(), "dovecot (Debian's dovecot-imapd)")
    return Dovecot(tls=tls).start()


@pytest.fixture
def dovecot(settings):
    server = start_dovecot()
    settings.INBOUND_IMAP_URL = server.url
    try:
        yield server
    finally:
        server.stop()


def mail(
    sender: str, subject: str = "Reports time out", *, to: str = INBOUND, body: str = ""
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="customer.test")
    message.set_content(body or f"{subject}: since this morning.")
    return message.as_bytes()


def mailbox(server: Dovecot):
    return parse_imap_url(server.url)


# --- the URL ------------------------------------------------------------------------------------


def test_the_url_is_parsed_with_its_options():
    box = parse_imap_url("imaps://inbox%40vendor.example:p%40ss%2Fw%25rd@mail.vendor.example/INBOX")
    assert (box.host, box.port, box.username, box.password, box.mailbox) == (
        "mail.vendor.example",
        993,
        "inbox@vendor.example",
        "p@ss/w%rd",
        "INBOX",
    )
    assert box.tls and not box.starttls and box.cafile is None
    assert "p@ss" not in str(box) and "p@ss" not in repr(box)
    plain = parse_imap_url(
        "imap://u:p@127.0.0.1:1143/Support%20Mail?starttls=yes&cafile=/etc/ca.pem"
    )
    assert (plain.port, plain.mailbox, plain.tls, plain.starttls, plain.cafile) == (
        1143,
        "Support Mail",
        False,
        True,
        "/etc/ca.pem",
    )
    assert parse_imap_url("imap://u:p@host").mailbox == "INBOX"
    assert parse_imap_url("imap://u:p@host").port == 143


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://u:p@host/INBOX", "must start with imaps:// (TLS) or imap://"),
        ("mail.example.com", "must start with imaps://"),
        ("imaps://host/INBOX", "names no user and password"),
        ("imaps://u@host/INBOX", "names no user and password"),
        ("imaps://u:p@/INBOX", "names no host"),
        ("imaps://u:p@host:99999/INBOX", "port that is not a number"),
        ("imaps://u:p@host:abc/INBOX", "port that is not a number"),
        ("imaps://u:p@host/INBOX?starttls=yes", "starttls is for imap://"),
        ("imap://u:p@host/INBOX?starttls=maybe", "starttls must be yes or no"),
        ("imap://u:p@host/INBOX?tls=1", "unknown options tls"),
        ("imap://u:p@host/Posteingang%C3%9C", "ASCII folder name"),
        ("imap://u:p@host/INBOX\r\nX", "control character"),
    ],
)
def test_a_bad_url_is_refused_with_the_reason(url, reason):
    with pytest.raises(ImapUrlError, match=re.escape(reason)):
        parse_imap_url(url)


def run_settings(**env: str) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings;"
        "entry = settings.CELERY_BEAT_SCHEDULE.get('poll-imap');"
        "print(entry and entry['task'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_url_stops_the_process_at_startup_and_a_good_one_schedules_the_poller():
    bad = run_settings(INBOUND_IMAP_URL="imaps://mail.vendor.example/INBOX")
    assert bad.returncode != 0
    assert "ImproperlyConfigured: INBOUND_IMAP_URL names no user and password" in bad.stderr
    good = run_settings(INBOUND_IMAP_URL="imaps://u:p@mail.vendor.example/INBOX")
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "cases.mailin.tasks.poll_imap"
    same = run_settings(
        INBOUND_IMAP_URL="imaps://u:p@mail.vendor.example/Support",
        INBOUND_IMAP_DONE_FOLDER="support",
    )
    assert "INBOUND_IMAP_DONE_FOLDER must not be the polled mailbox 'Support'" in same.stderr
    unset = run_settings(INBOUND_IMAP_URL="")
    assert unset.stdout.strip() == "None"


def test_the_poller_runs_on_the_mail_queue():
    from portal.celery import app

    app.loader.import_default_modules()
    assert app.amqp.router.route({}, "cases.mailin.tasks.poll_imap")["queue"].name == "mail"


def test_internaldate_is_read_in_utc():
    header = b'1 (UID 7 INTERNALDATE " 3-Dec-2026 09:15:00 +0900" BODY[] {12}'
    assert parse_internaldate(header) == datetime(2026, 12, 3, 0, 15, tzinfo=UTC)
    assert parse_internaldate(b"1 (UID 7 BODY[] {12}") is None


# --- against the server -------------------------------------------------------------------------


def test_messages_become_items_and_comments_and_move_to_the_done_folder(dovecot):
    _engagement, contact = engagement_with_contact("premium")
    sent_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    dovecot.append(mail(contact.email, "Reports time out"), when=sent_at)
    dovecot.append(mail("stranger@elsewhere.test", "Buy our product"))

    from cases.mailin.tasks import poll_imap

    assert poll_imap.delay().get() == {"handled": 2, "failed": 0, "given_up": 0, "skipped": False}
    case = Case.objects.get()
    assert case.subject == "Reports time out" and case.raised_by == contact
    assert case.received_at == sent_at  # the server's arrival time, not the poll's
    assert dovecot.count("INBOX") == 0
    done = dovecot.messages("Processed")
    assert len(done) == 2 and all("\\Seen" in flags for flags, _raw in done)

    dovecot.append(
        mail(
            contact.email,
            f"Re: [#{case.pk}] Reports time out",
            to=reply_address(case.pk),
            body="Still slow today.",
        )
    )
    result = poll_mailbox()
    assert (result.handled, result.failed) == (1, 0)
    assert CaseEvent.objects.get(case=case, kind="comment").body == "Still slow today."
    assert dovecot.count("Processed") == 3 and dovecot.count("INBOX") == 0
    assert poll_mailbox().handled == 0  # nothing left, nothing done twice
    assert Case.objects.count() == 1


def test_without_move_the_poller_copies_deletes_and_expunges(dovecot):
    _engagement, contact = engagement_with_contact("premium")
    for n in range(3):
        dovecot.append(mail(contact.email, f"Item {n}"))
    assert poll_mailbox(use_move=False).handled == 3
    assert dovecot.count("INBOX") == 0 and dovecot.count("Processed") == 3
    assert Case.objects.count() == 3


@pytest.mark.parametrize("tls", ["imaps", "starttls"])
def test_tls_with_a_private_certificate_authority(settings, tls):
    server = start_dovecot(tls)
    try:
        settings.INBOUND_IMAP_URL = server.url
        _engagement, contact = engagement_with_contact("premium")
        server.append(mail(contact.email))
        assert poll_mailbox().handled == 1
        assert Case.objects.count() == 1
        assert re.search(rf"Login: user=<{USER}>.*\bTLS\b", server.log())
        # Without the private CA the certificate is refused: nothing is read.
        server.append(mail(contact.email, "Second"))
        untrusted = parse_imap_url(server.url.split("cafile=")[0].rstrip("?&"))
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
            poll_mailbox(untrusted)
        assert server.count("INBOX") == 1
    finally:
        server.stop()


def test_a_wrong_password_fails_the_run_and_reads_nothing(dovecot):
    _engagement, contact = engagement_with_contact("premium")
    dovecot.append(mail(contact.email))
    wrong = dovecot.url.replace("p%40ss", "nope")
    with pytest.raises(Exception, match="AUTHENTICATIONFAILED"):
        poll_mailbox(parse_imap_url(wrong))
    assert dovecot.count("INBOX") == 1 and not Case.objects.exists()


# --- failures -----------------------------------------------------------------------------------


def test_a_poisoned_message_goes_to_the_failed_folder_and_blocks_nothing(dovecot):
    _engagement, contact = engagement_with_contact("premium")
    attempts = []

    def ingest(raw: bytes, **kwargs):
        if b"Subject: Poison" in raw:
            attempts.append(1)
            raise ValueError("cannot digest this")
        return ingest_message(raw, **kwargs)

    dovecot.append(mail(contact.email, "Before"))
    dovecot.append(mail(contact.email, "Poison"))
    dovecot.append(mail(contact.email, "After"))
    first = poll_mailbox(ingest=ingest)
    assert (first.handled, first.failed, first.given_up) == (2, 1, 0)
    assert dovecot.count("INBOX") == 1  # left for the next run, still unread
    assert dovecot.messages("INBOX")[0][0] == set()

    dovecot.append(mail(contact.email, "Later"))
    second = poll_mailbox(ingest=ingest)
    assert (second.handled, second.failed, second.given_up) == (1, 1, 0)
    third = poll_mailbox(ingest=ingest)
    assert (third.handled, third.failed, third.given_up) == (0, 0, 1)
    assert len(attempts) == 3  # INBOUND_IMAP_MAX_ATTEMPTS
    assert dovecot.count("INBOX") == 0 and dovecot.count("Processed") == 3
    [(_flags, raw)] = dovecot.messages("Failed")
    assert b"Subject: Poison" in raw
    assert sorted(Case.objects.values_list("subject", flat=True)) == ["After", "Before", "Later"]
    assert poll_mailbox(ingest=ingest).handled == 0 and len(attempts) == 3


def test_a_lost_database_fails_the_run_not_the_message(dovecot):
    _engagement, contact = engagement_with_contact("premium")
    dovecot.append(mail(contact.email))

    def database_gone(raw: bytes, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    for _run in range(4):  # more runs than INBOUND_IMAP_MAX_ATTEMPTS
        with pytest.raises(OperationalError):
            poll_mailbox(ingest=database_gone)
    assert dovecot.count("INBOX") == 1 and dovecot.count("Failed") == 0
    assert poll_mailbox().handled == 1 and Case.objects.count() == 1


def test_with_the_cache_down_good_mail_still_flows_and_nothing_is_given_up(dovecot, monkeypatch):
    from cases.mailin import imap

    class DownCache:
        def __getattr__(self, name):
            def down(*args, **kwargs):
                raise ConnectionError("cache unreachable")

            return down

    monkeypatch.setattr(imap, "cache", DownCache())
    _engagement, contact = engagement_with_contact("premium")

    def ingest(raw: bytes, **kwargs):
        if b"Subject: Poison" in raw:
            raise ValueError("cannot digest this")
        return ingest_message(raw, **kwargs)

    dovecot.append(mail(contact.email, "Poison"))
    dovecot.append(mail(contact.email, "Fine"))
    for _run in range(4):  # more runs than INBOUND_IMAP_MAX_ATTEMPTS: the count is unknown
        poll_mailbox(ingest=ingest)
    assert list(Case.objects.values_list("subject", flat=True)) == ["Fine"]
    assert dovecot.count("INBOX") == 1 and dovecot.count("Failed") == 0


# --- concurrency --------------------------------------------------------------------------------


def run_pollers(count: int, ingest, **kwargs) -> list:
    results: list = []
    errors: list = []
    start = threading.Barrier(count)

    def run() -> None:
        try:
            start.wait()
            results.append(poll_mailbox(ingest=ingest, **kwargs))
        except Exception as error:  # the test reports it
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return results


def slow_ingest():
    """ingest_message taking a while, so two pollers overlap. SQLite in tests is one shared
    in-memory database with table locks: there its writes take turns (PostgreSQL's do not)."""
    turns = threading.Lock() if connection.vendor == "sqlite" else None

    def ingest(raw: bytes, **kwargs):
        time.sleep(0.05)
        if turns is None:
            return ingest_message(raw, **kwargs)
        with turns:
            return ingest_message(raw, **kwargs)

    return ingest


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lock", [True, False], ids=["with the mailbox lock", "idempotence alone"])
def test_two_pollers_at_once_handle_each_message_once(dovecot, lock):
    _engagement, contact = engagement_with_contact("premium")
    subjects = [f"Item {n}" for n in range(8)]
    for subject in subjects:
        dovecot.append(mail(contact.email, subject))
    results = run_pollers(2, slow_ingest(), lock=lock)
    if lock:
        assert sorted(result.skipped for result in results) == [False, True]
    assert sum(result.failed + result.given_up for result in results) == 0
    assert sorted(Case.objects.values_list("subject", flat=True)) == subjects
    assert InboundMessage.objects.filter(outcome="created_case").count() == 8
    assert dovecot.count("INBOX") == 0
    processed = [raw for _flags, raw in dovecot.messages("Processed")]
    assert len({re.search(rb"Message-ID: (.*)", raw)[1] for raw in processed}) == 8
    if lock:
        assert len(processed) == 8
    # Without the lock (a poller that paused past its time to live) both may move the same
    # message: IMAP's MOVE is a copy and an expunge, so the done folder may then hold a copy
    # twice. The items do not: ingest_message takes each Message-ID once.


KILLED_POLLER = """
import sys, time
import django
django.setup()
from cases.mailin.imap import poll_mailbox
from cases.mailin.services import ingest_message

done = []

def ingest(raw, **kwargs):
    result = ingest_message(raw, **kwargs)  # committed: the item exists
    done.append(result)
    if len(done) == 2:
        print("INGESTED", result.case_id, flush=True)
        time.sleep(120)  # killed here: ingested, not yet moved
    return result

poll_mailbox(ingest=ingest)
"""


@pytest.mark.django_db(transaction=True)
def test_a_poller_killed_mid_run_then_run_again_handles_each_message_once(dovecot, settings):
    need_service(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")
    from tests.faults.harness import database_url

    _engagement, contact = engagement_with_contact("premium")
    subjects = [f"Item {n}" for n in range(4)]
    for subject in subjects:
        dovecot.append(mail(contact.email, subject))
    settings.INBOUND_IMAP_LOCK_SECONDS = 3
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url(),
        "INBOUND_IMAP_URL": dovecot.url,
        "INBOUND_IMAP_LOCK_SECONDS": "3",
        "INBOUND_EMAIL_ADDRESS": INBOUND,
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_POLLER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("INGESTED"), line + child.stderr.read()
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(10)
    assert Case.objects.count() == 2  # ingested, committed
    assert dovecot.count("Processed") == 1  # the second was never moved
    assert dovecot.count("INBOX") == 3

    if settings.REDIS_URL:  # the dead poller's lock lives on until it expires
        assert poll_mailbox().skipped
        time.sleep(3.5)
    result = poll_mailbox()
    assert not result.skipped and result.handled == 3  # the second one again: a duplicate
    assert sorted(Case.objects.values_list("subject", flat=True)) == subjects
    assert dovecot.count("INBOX") == 0 and dovecot.count("Processed") == 4


# --- end to end ---------------------------------------------------------------------------------


def test_a_conversation_by_e_mail_through_the_mailbox_and_the_outbox(dovecot, smtp_sink):
    """The customer writes to the mailbox; the manager answers in the portal; the answer goes out
    by SMTP with its thread headers; the customer's reply to it, delivered to the mailbox, is a
    comment on the same item."""
    engagement, contact = engagement_with_contact("premium")
    dovecot.append(mail(contact.email, "Backups fail"))
    assert poll_mailbox().handled == 1
    case = Case.objects.get()
    OutboxEmail.objects.all().delete()  # the manager's new-item notice
    case_comment(acting_user=engagement.manager, case=case, body="Please send the log.")
    assert deliver_outbox() == (1, 0)
    [answer] = smtp_sink.messages

    reply = EmailMessage()
    reply["From"] = contact.email
    reply["To"] = " ".join(str(answer["Reply-To"]).split())
    reply["Subject"] = "Re: " + " ".join(str(answer["Subject"]).split())
    reply["Message-ID"] = make_msgid(domain="customer.test")
    reply["In-Reply-To"] = answer["Message-ID"]
    reply.set_content("Log attached in the next mail.\n\n> Please send the log.")
    dovecot.append(reply.as_bytes())
    assert poll_mailbox().handled == 1
    comment = CaseEvent.objects.get(case=case, kind="comment")
    assert comment.body == "Log attached in the next mail." and comment.actor == contact
    assert Case.objects.count() == 1
