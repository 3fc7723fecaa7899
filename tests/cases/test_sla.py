"""The SLA scanner: 75 % reminder and breach notice, each exactly once — also with two scanners
at once on PostgreSQL, and through a real Celery worker on Redis."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cases import sla
from cases.casework.models import Case, SlaReminder
from cases.casework.services import case_raise, case_respond
from engagements.absences.services import absence_record
from portal.notifications import Notification, OutboxEmail
from portal.tenancy.scoping import system_scope
from tests.cases.conftest import engagement_with_contact
from tests.conftest import services_act_in_their_scope
from tests.factories import AdminFactory


@pytest.fixture(autouse=True)
def _services_in_the_actors_scope(monkeypatch):
    """Services run in the acting user's scope, as under a signed-in request."""
    services_act_in_their_scope(monkeypatch, sys.modules[__name__])


ROOT = Path(__file__).resolve().parents[2]


def raise_at(engagement, contact_or_staff, received_at, subject="Q"):
    return case_raise(
        acting_user=engagement.manager,
        engagement=engagement,
        kind="inquiry",
        severity=2,
        subject=subject,
        received_at=received_at,
    )


def counts(threshold):
    return (
        SlaReminder.objects.filter(threshold=threshold).count(),
        Notification.objects.filter(kind=f"sla.{threshold}").count(),
    )


@pytest.mark.django_db
def test_reminder_at_75_percent_then_breach_each_once():
    admin = AdminFactory()
    engagement, contact = engagement_with_contact("premium", "UTC")
    # Received Monday 09:00; 1 business day → due Tuesday 09:00; 75 % → Monday 15:00.
    case = raise_at(engagement, contact, datetime(2026, 6, 15, 9, tzinfo=UTC))
    assert case.reminder_due_at == datetime(2026, 6, 15, 15, tzinfo=UTC)
    before = datetime(2026, 6, 15, 14, 59, tzinfo=UTC)
    assert sla.scan(before).at_risk == 0
    at_risk_time = datetime(2026, 6, 15, 15, 1, tzinfo=UTC)
    assert sla.scan(at_risk_time).at_risk == 1
    assert sla.scan(at_risk_time).at_risk == 0  # a second run sends nothing
    reminder = SlaReminder.objects.get(case=case, threshold="at_risk")
    assert reminder.recipients == [engagement.manager.pk]
    breach_time = datetime(2026, 6, 16, 9, 1, tzinfo=UTC)
    result = sla.scan(breach_time)
    assert (result.at_risk, result.breached) == (0, 1)
    sla.scan(breach_time)
    notified = set(
        Notification.objects.filter(kind="sla.breached").values_list("user_id", flat=True)
    )
    assert notified == {engagement.manager.pk, engagement.deputy.pk, admin.pk}
    assert counts("breached") == (1, 3)
    assert OutboxEmail.objects.filter(notification__kind="sla.breached").count() == 3


@pytest.mark.django_db
def test_deputy_is_reminded_while_the_manager_is_absent():
    engagement, contact = engagement_with_contact("premium", "UTC")
    monday = datetime(2026, 6, 15, 9, tzinfo=UTC)
    absence_record(
        acting_user=engagement.manager,
        manager=engagement.manager,
        kind="vacation",
        starts_at=monday - timedelta(days=1),
        ends_at=monday + timedelta(days=5),
    )
    case = raise_at(engagement, contact, monday)
    sla.scan(monday + timedelta(hours=7))
    reminder = SlaReminder.objects.get(case=case, threshold="at_risk")
    assert set(reminder.recipients) == {engagement.manager.pk, engagement.deputy.pk}


@pytest.mark.django_db
def test_answered_items_get_no_reminder():
    engagement, contact = engagement_with_contact("premium", "UTC")
    monday = datetime(2026, 6, 15, 9, tzinfo=UTC)
    case = raise_at(engagement, contact, monday)
    case_respond(acting_user=engagement.manager, case=case, body="Looking")
    result = sla.scan(monday + timedelta(days=3))
    assert (result.at_risk, result.breached) == (0, 0)
    assert not SlaReminder.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_scanners_at_once_send_each_reminder_once(require_postgres, monkeypatch):
    AdminFactory()
    engagement, contact = engagement_with_contact("premium", "UTC")
    monday = datetime(2026, 6, 15, 9, tzinfo=UTC)
    for n in range(12):
        raise_at(engagement, contact, monday + timedelta(minutes=n), subject=f"item {n}")
    original = sla.notify_claimed
    monkeypatch.setattr(sla, "BATCH", 3)

    def slow_notify(*args, **kwargs):
        time.sleep(0.2)  # hold the claim open so the scanners really overlap
        return original(*args, **kwargs)

    monkeypatch.setattr(sla, "notify_claimed", slow_notify)
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            with system_scope("concurrent scanners test"):
                barrier.wait()
                results.append(sla.scan(monday + timedelta(days=2)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(r.at_risk for r in results) == 12 and sum(r.breached for r in results) == 12
    assert counts("at_risk") == (12, 12)
    assert counts("breached")[0] == 12
    # Both scanners met the same items: the overlap was real.
    assert all(r.at_risk + r.breached > 0 for r in results)


def _worker_env(tmp_path):
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items()}
    env.update(
        {
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "PORTAL_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
    )
    return env


@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
@pytest.mark.django_db(transaction=True)
def test_scanner_through_a_real_worker_on_redis(require_postgres, require_redis, tmp_path):
    """The beat task runs in a real Celery worker on Redis; sending it three times still
    sends every reminder exactly once."""
    from portal.celery import app

    AdminFactory()
    engagement, contact = engagement_with_contact("premium", "UTC")
    long_ago = timezone.now() - timedelta(days=10)
    cases = [
        raise_at(engagement, contact, long_ago + timedelta(minutes=n), f"old {n}") for n in range(5)
    ]
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel=INFO",
            "--concurrency=2",
            "-Q",
            f"sla-test-{os.getpid()}",
        ],
        cwd=ROOT,
        env=_worker_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(3):
            app.send_task("cases.tasks.scan_sla", queue=f"sla-test-{os.getpid()}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and SlaReminder.objects.count() < 10:
            time.sleep(0.5)
        time.sleep(2)  # let the other two deliveries finish too
        assert SlaReminder.objects.filter(threshold="breached").count() == 5
        assert SlaReminder.objects.filter(threshold="at_risk").count() == 5
        for case in cases:
            assert (
                Notification.objects.filter(
                    dedupe_key__startswith=f"sla:{case.pk}:breached:"
                ).count()
                == 3
            )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            output = worker.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0]
    assert "scan_sla" in output and "succeeded" in output, output[-3000:]


@pytest.mark.django_db
def test_scan_task_opens_its_own_scope(settings):
    from cases.tasks import scan_sla

    engagement, contact = engagement_with_contact("premium", "UTC")
    raise_at(engagement, contact, timezone.now() - timedelta(days=5))
    assert scan_sla.apply().get() == {
        "at_risk": 1,
        "breached": 1,
        "already_sent": 0,
        "absence_summaries": 0,
    }
    assert Case.objects.count() == 1
    assert settings.CELERY_BEAT_SCHEDULE["scan-sla"]["task"] == "cases.tasks.scan_sla"
