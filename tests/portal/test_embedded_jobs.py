"""The periodic jobs on the embedded default, as `make run` runs them with no server at all: a
SQLite database file, kombu's filesystem transport and a real Celery worker.

The scheduler puts the demo's sessions on the calendar, the SLA scan reminds and notifies each
overdue item exactly once although it is sent three times, the occurrence job reminds a coming
session once and marks a past one missed, and the outbox delivers what they wrote. Runs without
any service (locally and in CI alike)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.portal.test_runtime import ROOT, embedded_env, run_python

ARRANGE = """
from datetime import timedelta
from django.utils import timezone
from cases.casework.services import case_raise
from engagements.models import Engagement
from portal.tenancy.scoping import system_scope
from reviews.models import Occurrence

with system_scope("embedded jobs test"):
    Occurrence.objects.all().delete()  # the worker's scheduler puts them back
    engagement = Engagement.objects.order_by("pk").first()
    long_ago = timezone.now() - timedelta(days=10)
    for n in range(3):
        case_raise(acting_user=engagement.manager, engagement=engagement, kind="inquiry",
                   severity=2, subject=f"overdue {n}", received_at=long_ago)
    now = timezone.now()
    for deliverable, start in (("soon", now + timedelta(hours=1)),
                               ("past", now - timedelta(days=3))):
        Occurrence.objects.create(engagement=engagement, deliverable=deliverable,
                                  period=f"as_needed:{deliverable}", scheduled_start=start,
                                  duration_minutes=30, method="video")
    from cases.models import Case
    open_unanswered = Case.objects.filter(first_response_at__isnull=True,
                                          status__in=Case.OPEN_STATUSES)
    from cases.sla import Sla, case_sla
    # Breached now, and at risk or breached now (the demo's cases are relative to now).
    print(open_unanswered.filter(response_due_at__lt=now).count(),
          sum(case_sla(case, now)[0] in (Sla.AT_RISK, Sla.BREACHED) for case in open_unanswered))
"""

MEASURE = """
import json
from django.utils import timezone
from cases.models import Case, SlaReminder
from cases.sla import Sla, case_sla
from portal.notifications import Notification, OutboxEmail
from portal.tenancy.scoping import system_scope
from reviews.models import Occurrence, OccurrenceReminder

with system_scope("embedded jobs test"):
    print(json.dumps({
        "calls": Occurrence.objects.filter(deliverable="weekly_call").count(),
        "at_risk": SlaReminder.objects.filter(threshold="at_risk").count(),
        "breached": SlaReminder.objects.filter(threshold="breached").count(),
        "breach_notices": Notification.objects.filter(dedupe_key__contains=":breached").count(),
        "breach_recipients": sum(len(r.recipients) for r in
                                 SlaReminder.objects.filter(threshold="breached")),
        "reminded": OccurrenceReminder.objects.filter(occurrence__deliverable="soon").count(),
        "missed": Occurrence.objects.filter(deliverable="past", status="missed").count(),
        "unsent": OutboxEmail.objects.filter(sent_at__isnull=True).count(),
        "at_risk_now": sum(
            case_sla(case, timezone.now())[0] in (Sla.AT_RISK, Sla.BREACHED)
            for case in Case.objects.filter(first_response_at__isnull=True,
                                            status__in=Case.OPEN_STATUSES)),
    }))
"""

TASKS = [
    "reviews.scheduling.tasks.schedule_all",
    *["cases.tasks.scan_sla"] * 3,
    *["reviews.scheduling.tasks.remind_and_mark_missed"] * 2,
    # A run sends a batch of 50; the notices and the reminders of the demo's sessions (its
    # engagements began before they were created: the current periods' sessions come within a
    # business day) take more than one.
    *["portal.tasks.deliver_outbox"] * 3,
]


def manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


def finish(worker: subprocess.Popen) -> str:
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate()[0]


def measure(env: dict[str, str]) -> dict[str, int]:
    result = run_python(MEASURE, env)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_scheduler_sla_scan_and_reminders_on_sqlite_through_a_real_worker(tmp_path):
    env = embedded_env(tmp_path, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    arranged = run_python(ARRANGE, env)
    assert arranged.returncode == 0, arranged.stderr[-4000:]
    overdue, at_risk = map(int, arranged.stdout.split()[-2:])  # the three above and the demo's
    assert overdue >= 3
    assert measure(env)["calls"] == 0

    send = "from portal.celery import app\n" + "".join(
        f"app.send_task({name!r})\n" for name in TASKS
    )
    sent = run_python(send, env)
    assert sent.returncode == 0, sent.stderr[-4000:]
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "portal", "worker", "--loglevel=INFO"),
            *("--concurrency=1", "--without-mingle", "--without-gossip"),
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = measure(env)
            if found["calls"] and (found["breached"], found["missed"], found["unsent"]) == (
                overdue,
                1,
                0,
            ):
                break
            time.sleep(1)
        time.sleep(2)  # the repeated scans and reminders finish too
    finally:
        output = finish(worker)
    found = measure(env)
    output = f"{found}\n{output}"
    assert found["calls"] > 0, output
    # A demo case may pass 75 % of its window while the jobs run: the scan's count lies between
    # the cases at risk before it and those at risk after it.
    assert found["breached"] == overdue, output
    assert at_risk <= found["at_risk"] <= found["at_risk_now"], output
    # Three scans, one notice per recipient of each breach.
    assert found["breach_notices"] == found["breach_recipients"] > 0
    assert (found["reminded"], found["missed"]) == (1, 1), output
    assert found["unsent"] == 0, output
    assert output.count("succeeded") >= len(TASKS), output
