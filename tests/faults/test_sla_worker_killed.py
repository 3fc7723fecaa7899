"""A real Celery worker on Redis is SIGKILLed in the middle of an SLA scan: after a restart and
a rerun (and the broker's redelivery of the killed task) every at-risk reminder and every breach
notice has gone out exactly once — none lost with the killed transaction, none sent twice."""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from cases.casework.models import Case, SlaReminder
from cases.casework.services import case_raise
from portal.notifications import Notification, OutboxEmail
from tests.cases.conftest import engagement_with_contact
from tests.factories import AdminFactory
from tests.faults.harness import backends_idle_in_transaction, restart_faults, sender, wait_for

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

BATCH = 5
CASES_PER_ENGAGEMENT = 10
ENGAGEMENTS = 3
TOTAL = CASES_PER_ENGAGEMENT * ENGAGEMENTS
# All at-risk batches, then two breach batches commit; the third breach batch is held open.
COMMITTED_BATCHES = TOTAL // BATCH + 2


def overdue_cases(*, admins: int = 2) -> list[Case]:
    """Items received ten days ago and never answered: due for both reminders."""
    for _admin in range(admins):
        AdminFactory()
    received = timezone.now() - timedelta(days=10)
    cases = []
    for plan_code in ("premium", "standard", "tsam")[:ENGAGEMENTS]:
        engagement, _contact = engagement_with_contact(plan_code, "UTC")
        for n in range(CASES_PER_ENGAGEMENT):
            cases.append(
                case_raise(
                    acting_user=engagement.manager,
                    engagement=engagement,
                    kind="inquiry",
                    severity=2,
                    subject=f"Overdue {plan_code} {n}",
                    received_at=received + timedelta(minutes=n),
                )
            )
    return cases


def reminders(threshold: str) -> int:
    return SlaReminder.objects.filter(threshold=threshold).count()


def expected_recipients(case: Case, threshold: str) -> set[int]:
    from portal.notifications import provider_admins

    engagement = case.engagement
    people = {engagement.manager_id, case.assignee_id}
    if threshold == "breached":
        people |= {engagement.deputy_id, *provider_admins().values_list("pk", flat=True)}
    return people - {None}


def assert_each_reminder_sent_exactly_once(cases: list[Case]) -> None:
    for threshold in ("at_risk", "breached"):
        claims = Counter(
            SlaReminder.objects.filter(threshold=threshold).values_list("case_id", flat=True)
        )
        assert claims == Counter({case.pk: 1 for case in cases}), threshold
        sent = Counter()
        for key in Notification.objects.filter(kind=f"sla.{threshold}").values_list(
            "dedupe_key", flat=True
        ):
            _sla, case_id, _threshold, user_id = key.split(":")
            sent[(int(case_id), int(user_id))] += 1
        expected = {
            (case.pk, user_id): 1
            for case in Case.objects.filter(pk__in=[c.pk for c in cases]).select_related(
                "engagement"
            )
            for user_id in expected_recipients(case, threshold)
        }
        assert sent == Counter(expected), threshold
        # One e-mail in the outbox per notification, none without one.
        assert OutboxEmail.objects.filter(notification__kind=f"sla.{threshold}").count() == len(
            expected
        ), threshold
    assert not OutboxEmail.objects.filter(notification__isnull=True).exists()


def test_worker_killed_mid_scan_then_restarted(start_worker, redis_server):
    first = start_worker(
        "sla-killed",
        wait=False,
        faults={"FAULTS_SLA_BATCH": str(BATCH), "FAULTS_HOLD": f"sla:{COMMITTED_BATCHES}"},
    )
    cases = overdue_cases()
    client = sender(redis_server.url)
    first.wait_ready()
    killed_task = client.send_task("cases.tasks.scan_sla", queue=start_worker.queue)

    # Mid-run, checked in the database: every at-risk reminder and two batches of breach
    # notices are committed, and the worker holds the next batch's transaction open.
    first.wait_for_line("FAULTS: holding SLA batch")
    wait_for(
        lambda: (
            reminders("at_risk") == TOTAL
            and reminders("breached") == 2 * BATCH
            and backends_idle_in_transaction()
        ),
        "the scan to stop inside its third breach batch",
    )
    first.kill()
    assert first.succeeded(killed_task.id) == 0
    # The held batch died with the worker: its claims were rolled back, nothing half-sent.
    assert reminders("breached") == 2 * BATCH
    assert Notification.objects.filter(kind="sla.breached").count() == sum(
        len(expected_recipients(case, "breached"))
        for case in Case.objects.filter(sla_reminders__threshold="breached").select_related(
            "engagement"
        )
    )

    # A new worker: Redis hands it the killed task again (its visibility timeout has passed),
    # and the next periodic scan arrives as well.
    second = start_worker("sla-restarted", faults=restart_faults())
    wait_for(lambda: second.succeeded(killed_task.id), "the killed scan to be redelivered")
    rerun = client.send_task("cases.tasks.scan_sla", queue=start_worker.queue)
    wait_for(lambda: second.succeeded(rerun.id), "the rerun scan to finish")
    assert second.succeeded(killed_task.id) == 1
    assert_each_reminder_sent_exactly_once(cases)


def test_pool_process_killed_mid_scan_is_retried_by_the_worker(
    start_worker, redis_server, tmp_path: Path
):
    """Only the pool process dies (the OOM killer's way): the worker rejects the task back to
    the queue (task_reject_on_worker_lost) and runs it again at once, completing the scan."""
    worker = start_worker(
        "sla-pool-killed",
        wait=False,
        faults={
            "FAULTS_SLA_BATCH": str(BATCH),
            "FAULTS_HOLD": "sla:3",
            "FAULTS_HOLD_ONCE": str(tmp_path / "held-once"),
        },
    )
    cases = overdue_cases()
    client = sender(redis_server.url)
    worker.wait_ready()
    task = client.send_task("cases.tasks.scan_sla", queue=start_worker.queue)
    worker.wait_for_line("FAULTS: holding SLA batch")
    wait_for(
        lambda: reminders("at_risk") == 3 * BATCH and backends_idle_in_transaction(),
        "the scan to stop inside its fourth batch",
    )
    children = Path(f"/proc/{worker.popen.pid}/task/{worker.popen.pid}/children").read_text()
    (child,) = [int(pid) for pid in children.split()]
    os.kill(child, signal.SIGKILL)
    worker.wait_for_line("WorkerLostError")
    wait_for(lambda: worker.succeeded(task.id), "the rejected scan to run again and finish")
    rerun = client.send_task("cases.tasks.scan_sla", queue=start_worker.queue)
    wait_for(lambda: worker.succeeded(rerun.id), "the rerun scan to finish")
    assert_each_reminder_sent_exactly_once(cases)
