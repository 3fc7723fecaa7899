"""Outbox delivery, counted at a real SMTP server: claimed in a committed step with a lease, each
message marked sent in its own transaction, so a deliverer dying mid-batch re-sends at most the
message in flight; the welcome e-mail goes through the same outbox; timeouts are in force."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.mail import get_connection
from django.utils import timezone

from portal import notifications
from portal.accounts.models import User
from portal.notifications import OutboxEmail, deliver_outbox, queue_email
from tests.conftest import signed_in
from tests.smtp import SmtpSink, free_port

pytestmark = pytest.mark.django_db
ROOT_DIR = Path(__file__).resolve().parents[2]


def queue(count: int, prefix: str = "Message") -> list[OutboxEmail]:
    return [
        queue_email(to=f"person{n}@example.test", subject=f"{prefix} {n}", body="Hi", language="en")
        for n in range(count)
    ]


def deliver_all(runs: int = 20) -> int:
    """Run the delivery job until it finds nothing due; returns how many it sent."""
    total = 0
    for _run in range(runs):
        sent, failed = deliver_outbox()
        assert failed == 0
        if not sent:
            return total
        total += sent
    raise AssertionError("the outbox did not drain")


def expire_claims() -> None:
    """Time passes beyond every lease (the outbox rows are what a later run looks at)."""
    OutboxEmail.objects.filter(claimed_until__isnull=False).update(
        claimed_until=timezone.now() - timedelta(seconds=1)
    )


def test_a_batch_of_n_rows_yields_exactly_n_messages(smtp_sink, settings):
    settings.OUTBOX_BATCH_SIZE = 4
    queue(10)
    assert deliver_all() == 10
    assert smtp_sink.subjects() == {f"Message {n}": 1 for n in range(10)}
    assert sorted(smtp_sink.recipients()) == sorted(f"person{n}@example.test" for n in range(10))
    rows = OutboxEmail.objects.all()
    assert all(row.sent_at and row.attempts == 1 for row in rows)
    assert not rows.filter(claimed_until__isnull=False).exists()
    assert not rows.exclude(claim_token="").exists()
    assert deliver_outbox() == (0, 0)
    assert len(smtp_sink.messages) == 10


class Killed(BaseException):
    """The deliverer's process dies (nothing of it gets to handle this)."""


def test_a_deliverer_dying_mid_batch_resends_only_the_message_in_flight(smtp_sink, monkeypatch):
    """The third message reaches the server, then the deliverer dies before marking it sent.
    The two before it are marked sent already; the in-flight one and the rest stay claimed until
    the lease expires, then the next run sends them: one duplicate, nothing lost."""
    queue(6)
    original = notifications.send_mail
    calls = []

    def dies_after_the_third(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(args[0])
        if len(calls) == 3:
            raise Killed
        return result

    monkeypatch.setattr(notifications, "send_mail", dies_after_the_third)
    with pytest.raises(Killed):
        deliver_outbox()
    monkeypatch.undo()
    assert OutboxEmail.objects.filter(sent_at__isnull=False).count() == 2
    # The rest is still claimed by the dead deliverer: not sent again before its lease expires.
    assert deliver_outbox() == (0, 0)
    expire_claims()
    assert deliver_all() == 4
    assert smtp_sink.subjects() == {
        "Message 0": 1,
        "Message 1": 1,
        "Message 2": 2,  # the one in flight when it died
        "Message 3": 1,
        "Message 4": 1,
        "Message 5": 1,
    }


def test_a_claimed_row_is_left_to_its_deliverer(smtp_sink):
    """Rows another deliverer holds under a live lease are not sent; expired ones are taken."""
    first, second = queue(2)
    OutboxEmail.objects.filter(pk=first.pk).update(
        claimed_until=timezone.now() + timedelta(minutes=5), claim_token="other"
    )
    OutboxEmail.objects.filter(pk=second.pk).update(
        claimed_until=timezone.now() - timedelta(seconds=1), claim_token="dead"
    )
    assert deliver_outbox() == (1, 0)
    assert smtp_sink.subjects() == {"Message 1": 1}
    first.refresh_from_db()
    assert first.sent_at is None and first.claim_token == "other"


def test_a_run_stops_before_its_lease_runs_out(smtp_sink, settings):
    """A message is started only while the lease still covers the SMTP timeout: with too short
    a lease nothing is sent, and the rows are given back for the next run."""
    queue(2)
    settings.OUTBOX_LEASE_SECONDS = 3  # less than EMAIL_TIMEOUT (5) + 1
    assert deliver_outbox() == (0, 0)
    assert smtp_sink.messages == []
    assert not OutboxEmail.objects.exclude(claim_token="").exists()
    settings.OUTBOX_LEASE_SECONDS = 60
    assert deliver_outbox() == (2, 0)


# --- The welcome e-mail -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_provisioning_with_smtp_down_answers_201_and_the_welcome_waits_in_the_outbox(
    world, settings
):
    closed = free_port()
    sink = SmtpSink(closed)
    for name, value in sink.django_settings().items():
        setattr(settings, name, value)
    response = signed_in(world.admin).post(
        "/api/v1/users/",
        {"email": "new.person@example.test", "name": "New Person", "kind": "manager"},
        format="json",
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(email="new.person@example.test")
    welcome = OutboxEmail.objects.get(to=user.email)
    assert welcome.sent_at is None and welcome.notification is None
    assert "/accounts/password/reset/" in welcome.body

    assert deliver_outbox() == (0, 1)  # the server is still down: kept, with the reason
    welcome.refresh_from_db()
    assert welcome.sent_at is None and welcome.attempts == 1 and welcome.last_error

    sink.start()
    try:
        OutboxEmail.objects.update(send_after=timezone.now())  # the backoff has passed
        assert deliver_outbox() == (1, 0)
        assert sink.recipients() == [user.email]
        assert sink.subjects() == {"Your Service Portal account": 1}
    finally:
        sink.stop()


# --- Timeouts -----------------------------------------------------------------------------------


def test_email_and_task_time_limits_are_in_force(settings):
    from portal.celery import app

    assert app.conf.task_soft_time_limit == django_settings.CELERY_TASK_SOFT_TIME_LIMIT > 0
    assert app.conf.task_time_limit == django_settings.CELERY_TASK_TIME_LIMIT
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit
    scheduler = app.tasks["reviews.scheduling.tasks.schedule_all"]
    assert scheduler.soft_time_limit == django_settings.SCHEDULER_SOFT_TIME_LIMIT
    assert scheduler.time_limit == django_settings.SCHEDULER_TIME_LIMIT
    assert scheduler.soft_time_limit > app.conf.task_soft_time_limit
    # Every limit ends a task before Redis would hand it to another worker.
    visibility = (django_settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("visibility_timeout")
    if visibility:
        assert scheduler.time_limit < visibility
    assert django_settings.EMAIL_TIMEOUT > 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert get_connection().timeout == django_settings.EMAIL_TIMEOUT


def test_time_limits_come_from_the_environment():
    code = (
        "import django, json; django.setup(); from django.conf import settings;"
        "from portal.celery import app;"
        "print(json.dumps([app.conf.task_soft_time_limit, app.conf.task_time_limit,"
        " settings.EMAIL_TIMEOUT]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "CELERY_TASK_SOFT_TIME_LIMIT": "123",
        "CELERY_TASK_TIME_LIMIT": "150",
        "EMAIL_TIMEOUT": "4",
    }
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT_DIR, env=env, capture_output=True, text=True
    )
    assert output.returncode == 0, output.stderr
    assert json.loads(output.stdout.strip().splitlines()[-1]) == [123, 150, 4.0]
