"""Cases by e-mail under concurrency and failure: the same message handled by two processes at
once creates one item (PostgreSQL); `manage.py ingest_email` exits 0 when the message is handled
or deliberately ignored and 75 (EX_TEMPFAIL) when the database is away, never with a traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from cases.casework.models import Case
from cases.mailin import services
from cases.mailin.models import InboundMessage
from cases.mailin.services import Outcome, ingest_message
from tests.cases.test_mailin import INBOUND, mail

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _inbound_address(settings):
    settings.INBOUND_EMAIL_ADDRESS = INBOUND


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_message_id", [True, False])
def test_two_processes_ingesting_one_message_create_one_item(
    require_postgres, premium, monkeypatch, with_message_id
):
    _engagement, contact = premium
    raw = mail(contact.email)
    if not with_message_id:  # then the key is the raw message's hash
        raw = b"\n".join(line for line in raw.split(b"\n") if not line.startswith(b"Message-ID"))
    original = services._decide

    def slow_decide(*args, **kwargs):
        decision = original(*args, **kwargs)
        time.sleep(0.5)  # hold the transaction open while the other one inserts the same key
        return decision

    monkeypatch.setattr(services, "_decide", slow_decide)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def ingest() -> None:
        try:
            barrier.wait()
            outcomes.append(ingest_message(raw).outcome.value)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=ingest) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["created_case", "duplicate"]
    assert Case.objects.count() == 1
    assert InboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_the_command_reads_stdin_and_exits_0(premium, monkeypatch):
    _engagement, contact = premium
    out = io.StringIO()
    for raw in (mail(contact.email), b"\x00\xff not an e-mail at all \r\n\r\n\x80"):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
        call_command("ingest_email", stdout=out)  # returns: exit status 0
    assert out.getvalue().splitlines()[0].startswith("created_case #")
    assert out.getvalue().splitlines()[1] == "ignored_no_sender"
    assert Case.objects.count() == 1


def _command(env: dict[str, str], raw: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "manage.py", "ingest_email"],
        cwd=ROOT,
        env=env,
        input=raw,
        capture_output=True,
        timeout=120,
    )


def test_the_command_exits_75_when_the_database_is_unreachable(tmp_path):
    env = dict(os.environ)
    env.update(
        {
            # A port nothing listens on: the connection is refused at once.
            "DATABASE_URL": "postgres://postgres@127.0.0.1:9/portal",
            "PORTAL_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    done = _command(env, mail("someone@customer.test"))
    assert done.returncode == 75, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    assert b"database unavailable" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_the_command_as_a_process_exits_0_for_good_and_bad_input(require_postgres, premium):
    _engagement, contact = premium
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "INBOUND_EMAIL_ADDRESS": INBOUND,
        }
    )
    # Three MTA deliveries of one message at once (a retry racing the first try): one item.
    raw = mail(contact.email)
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "ingest_email"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(raw, timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [err for _out, err in outputs]
    said = sorted(out.split(b" ")[0].strip() for out, _err in outputs)
    assert said == [b"created_case", b"duplicate", b"duplicate"]
    for bad in (b"", b"\xff\xfe\x00garbage", b"From: <>\r\nSubject: =?x?Q?broken\r\n\r\n"):
        done = _command(env, bad)
        assert done.returncode == 0, done.stderr.decode()
        assert b"Traceback" not in done.stderr
    assert Case.objects.count() == 1
    assert InboundMessage.objects.filter(outcome=Outcome.CREATED_CASE.value).count() == 1
