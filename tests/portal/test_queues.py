"""Jobs go to queues by kind, so a slow kind never delays the SLA scan (portal/settings.py)."""

from __future__ import annotations

import pytest

from portal.celery import app


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("cases.tasks.scan_sla", "sla"),
        ("portal.tasks.deliver_outbox", "mail"),
        ("portal.tasks.deliver_webhooks", "mail"),
        ("cases.mailin.tasks.poll_imap", "mail"),
        ("cases.mailin.tasks.purge_inbound_messages", "mail"),
        ("reviews.scheduling.tasks.schedule_all", "scheduler"),
        ("reviews.scheduling.tasks.remind_and_mark_missed", "scheduler"),
        ("reviews.maintenance.tasks.send_maintenance_notices", "scheduler"),
        ("engagements.time.tasks.evaluate_overages", "scheduler"),
        ("cases.risks.tasks.remind_risk_reviews", "scheduler"),
        ("portal.tasks.heartbeat", "celery"),
    ],
)
def test_each_job_goes_to_its_queue(task: str, queue: str) -> None:
    app.loader.import_default_modules()  # the apps' tasks modules, as a worker loads them
    assert task in app.tasks, f"{task} is not a registered task"
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_every_periodic_job_has_a_queue_a_default_worker_consumes() -> None:
    from django.conf import settings

    consumed = {queue.name for queue in app.conf.task_queues}
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert app.amqp.router.route({}, entry["task"])["queue"].name in consumed
