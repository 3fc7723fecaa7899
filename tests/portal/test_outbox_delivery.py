"""Outbox delivery, counted at a real SMTP server: claimed in a committed step with a lease, each
message marked sent in its own transaction, so a deliverer dying mid-batch re-sends at most the
message in flight; the welcome e-mail goes through the same outbox; timeouts are in force."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from portal import notifications
from portal.notifications import OutboxEmail, deliver_outbox, queue_email

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
