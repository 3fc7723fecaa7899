"""Redis (the broker) restarts while a worker runs a task and more tasks wait in the queue.

Redis here keeps nothing on disk (as in CI and compose), so what was queued is gone after the
restart and the next periodic run catches up. What must hold: the running task finishes once
and is not run again, a send while Redis is down fails loudly instead of vanishing, the worker
reconnects by itself, every task sent after the restart completes exactly once, and in the end
each reminder went out once and the calendar is exactly what a clean run makes."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.utils import timezone
from kombu.exceptions import OperationalError

from engagements.contracts.models import Engagement
from reviews.scheduling import scheduler
from reviews.scheduling.models import Occurrence
from tests.faults.harness import backends_idle_in_transaction, sender, wait_for
from tests.faults.test_scheduler_worker_killed import calendar, engagements
from tests.faults.test_sla_worker_killed import (
    assert_each_reminder_sent_exactly_once,
    overdue_cases,
)

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]


def test_broker_restarted_under_a_running_worker(start_worker, redis_server, tmp_path: Path):
    gate = tmp_path / "gate"
    worker = start_worker(
        "redis-restart", wait=False, faults={"FAULTS_HOLD": "sla:0", "FAULTS_GATE": str(gate)}
    )
    today = timezone.now().date()
    made = engagements(6, start_date=today + timedelta(days=3), end_date=today + timedelta(days=30))
    Occurrence.objects.all().delete()
    for engagement in made:
        scheduler.schedule_engagement(Engagement.objects.get(pk=engagement.pk))
    reference = Counter(calendar(made))
    Occurrence.objects.all().delete()
    cases = overdue_cases()
    client = sender(redis_server.url)
    broker = redis.Redis.from_url(redis_server.url)
    worker.wait_ready()

    # A scan is running (held inside its first batch) and three jobs wait behind it.
    running = client.send_task("cases.tasks.scan_sla", queue=start_worker.queue)
    worker.wait_for_line("FAULTS: holding SLA batch #1")
    wait_for(backends_idle_in_transaction, "the scan's first batch to be held open")
    queued = [
        client.send_task(
            "reviews.scheduling.tasks.schedule_engagement",
            args=[engagement.pk],
            queue=start_worker.queue,
        )
        for engagement in made[:3]
    ]
    assert broker.llen(start_worker.queue) == 3

    # Redis goes down; the worker notices at once (and cannot hand the running scan back).
    redis_server.process.kill()
    worker.wait_for_line("consumer: Cannot connect to redis")
    # A job sent now fails at the sender (after kombu's short retries), it does not vanish.
    with pytest.raises(OperationalError):
        client.send_task("reviews.scheduling.tasks.schedule_all", queue=start_worker.queue)
    # Redis comes back, empty; the held scan continues.
    redis_server.start()
    gate.touch()
    wait_for(lambda: worker.succeeded(running.id), "the running scan to finish")

    # Jobs sent after the restart: the worker has reconnected and runs each of them once.
    late_cases = overdue_cases(admins=0)
    after = [
        client.send_task(
            "reviews.scheduling.tasks.schedule_engagement",
            args=[engagement.pk],
            queue=start_worker.queue,
        )
        for engagement in made[3:]
    ]
    after.append(client.send_task("cases.tasks.scan_sla", queue=start_worker.queue))
    # And the next periodic run, which catches up with what the restart dropped.
    after.append(
        client.send_task("reviews.scheduling.tasks.schedule_all", queue=start_worker.queue)
    )
    for task in after:
        wait_for(lambda task=task: worker.succeeded(task.id), f"task {task.id} after the restart")

    runs = Counter(re.findall(r"\[([0-9a-f-]{36})\] succeeded", worker.output))
    assert all(count == 1 for count in runs.values()), runs  # nothing ran twice
    assert {task.id for task in after} | {running.id} <= set(runs)
    assert not {task.id for task in queued} & set(runs)  # lost with the in-memory queue
    assert worker.count("Connected to redis://") >= 2  # it reconnected by itself
    assert_each_reminder_sent_exactly_once(cases + late_cases)
    assert Counter(calendar(made)) == reference
