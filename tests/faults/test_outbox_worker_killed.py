"""Real Celery workers on Redis deliver the outbox to a real SMTP server (aiosmtpd in this test
process) and are SIGKILLed, one after another, right after handing a message to the server and
before marking it sent. Counted at the server: every message arrives, and each kill causes at
most one duplicate (the message in flight), never a batch sent again."""

from __future__ import annotations

from collections import Counter

import pytest
from django.utils import timezone

from portal.notifications import OutboxEmail, queue_email
from tests.faults.harness import sender, wait_for
from tests.smtp import SmtpSink

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

MESSAGES = 24
BATCH = 6
KILLS = 3
SENT_BEFORE_HOLD = 2  # each killed worker marks two sent, hands over a third and dies
LEASE_SECONDS = 8


@pytest.fixture
def sink():
    server = SmtpSink().start()
    try:
        yield server
    finally:
        server.stop()


def mail_settings(sink: SmtpSink) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "0",
        "EMAIL_TIMEOUT": "1",
        "OUTBOX_BATCH_SIZE": str(BATCH),
        "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
    }


def sent_rows() -> int:
    return OutboxEmail.objects.filter(sent_at__isnull=False).count()


def test_workers_killed_mid_delivery_lose_nothing_and_duplicate_at_most_one_each(
    start_worker, redis_server, sink
):
    for n in range(MESSAGES):
        queue_email(to=f"p{n}@example.test", subject=f"Reminder {n}", body="Due", language="en")
    client = sender(redis_server.url)

    for kill in range(KILLS):
        worker = start_worker(
            f"outbox-killed-{kill}",
            faults={**mail_settings(sink), "FAULTS_HOLD": f"deliver:{SENT_BEFORE_HOLD}"},
        )
        client.send_task("portal.tasks.deliver_outbox", queue=start_worker.queue)
        worker.wait_for_line("FAULTS: holding e-mail")
        arrived = (kill + 1) * (SENT_BEFORE_HOLD + 1)
        wait_for(lambda arrived=arrived: len(sink.messages) == arrived, "the held message")
        worker.kill()
        # What was marked sent stays sent; the message in flight and the rest of the batch
        # wait for the dead worker's claim to expire (an earlier dead worker's claim may have
        # expired already, and its rows been claimed by the next worker).
        assert sent_rows() == (kill + 1) * SENT_BEFORE_HOLD
        leased = OutboxEmail.objects.filter(sent_at__isnull=True, claimed_until__gt=timezone.now())
        assert leased.count() >= BATCH - SENT_BEFORE_HOLD

    last = start_worker("outbox-restarted", faults=mail_settings(sink))

    def drained() -> bool:
        if not OutboxEmail.objects.filter(sent_at__isnull=True).exists():
            return True
        task = client.send_task("portal.tasks.deliver_outbox", queue=start_worker.queue)
        wait_for(lambda: last.succeeded(task.id), "a delivery run", timeout=30)
        return False

    wait_for(drained, "every claim to expire and the outbox to drain", timeout=90)

    arrivals = sink.subjects()
    expected = {f"Reminder {n}" for n in range(MESSAGES)}
    assert set(arrivals) == expected  # nothing lost
    duplicates = sum(arrivals.values()) - MESSAGES
    assert duplicates <= KILLS, arrivals
    assert max(arrivals.values()) <= 2, arrivals
    assert Counter(arrivals.values())[2] == duplicates
    rows = OutboxEmail.objects.all()
    assert rows.filter(sent_at__isnull=False).count() == MESSAGES
    assert not rows.exclude(claim_token="").exists()
