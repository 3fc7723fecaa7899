"""A real Celery worker of the portal, with failpoints the fault tests switch on by environment.

Run as `python -m tests.faults.worker worker -Q <queue> ...`; without FAULTS_* variables it is
exactly `celery -A portal worker`. The failpoints make a kill land at a known point instead of
at a lucky moment:

- FAULTS_HOLD="sla:N" | "schedule:N" | "remind:N": after N committed SLA batches, scheduled
  engagements or occurrence reminders, the next one stops *inside its transaction*, after its
  writes, and waits there (until killed, or until FAULTS_GATE exists).
- FAULTS_HOLD="deliver:N": after N e-mails handed to the SMTP server, the next one is handed over
  and the delivery stops before marking it sent (the worst moment to die).
- FAULTS_HOLD_ONCE=<file>: hold only if the file does not exist yet, and create it when holding,
  so the run that replaces a killed one goes through.
- FAULTS_GATE=<file>: a held run continues once the file exists.
- FAULTS_SLA_BATCH=<n>: the SLA scanner's batch size (small batches: many commits).
- FAULTS_VISIBILITY_TIMEOUT=<seconds>: Redis redelivers messages left unacknowledged longer than
  this when the worker starts (as it would after the production timeout), and not again later.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.db import transaction  # noqa: E402

from portal.celery import app  # noqa: E402


def _hold(what: str, count: int) -> None:
    print(f"FAULTS: holding {what} #{count} inside its transaction", flush=True)
    gate = os.environ.get("FAULTS_GATE")
    while not (gate and Path(gate).exists()):
        time.sleep(0.05)
    print(f"FAULTS: released {what} #{count}", flush=True)


def _should_hold(kind: str, done: int) -> bool:
    spec = os.environ.get("FAULTS_HOLD", "")
    if not spec.startswith(f"{kind}:") or done < int(spec.split(":", 1)[1]):
        return False
    once = os.environ.get("FAULTS_HOLD_ONCE")
    if once:
        try:
            Path(once).touch(exist_ok=False)
        except FileExistsError:
            return False
    return True


def _install_failpoints() -> None:
    from cases import sla
    from portal import notifications
    from reviews.scheduling import reminders, scheduler

    if os.environ.get("FAULTS_SLA_BATCH"):
        sla.BATCH = int(os.environ["FAULTS_SLA_BATCH"])
    counts = {"sla": 0, "schedule": 0, "remind": 0, "deliver": 0}

    notify_claimed = sla.notify_claimed

    def held_notify_claimed(*args, **kwargs):
        written = notify_claimed(*args, **kwargs)  # inside the batch's transaction
        if _should_hold("sla", counts["sla"]):
            _hold("SLA batch", counts["sla"] + 1)
        counts["sla"] += 1
        return written

    schedule_engagement = scheduler.schedule_engagement

    def held_schedule_engagement(engagement, **kwargs):
        with transaction.atomic():
            result = schedule_engagement(engagement, **kwargs)
            if _should_hold("schedule", counts["schedule"]):
                _hold("engagement", counts["schedule"] + 1)
        counts["schedule"] += 1
        return result

    remind = reminders._remind

    def held_remind(occurrence):
        with transaction.atomic():
            sent = remind(occurrence)
            if sent and _should_hold("remind", counts["remind"]):
                _hold("reminder", counts["remind"] + 1)
        counts["remind"] += int(sent)
        return sent

    send_mail = notifications.send_mail

    def held_send_mail(*args, **kwargs):
        result = send_mail(*args, **kwargs)  # the message is at the SMTP server now
        if _should_hold("deliver", counts["deliver"]):
            _hold("e-mail", counts["deliver"] + 1)
        counts["deliver"] += 1
        return result

    sla.notify_claimed = held_notify_claimed
    notifications.send_mail = held_send_mail
    scheduler.schedule_engagement = held_schedule_engagement
    reminders._remind = held_remind


def main() -> None:
    _install_failpoints()
    if os.environ.get("FAULTS_VISIBILITY_TIMEOUT"):
        options = dict(app.conf.broker_transport_options or {})
        options["visibility_timeout"] = float(os.environ["FAULTS_VISIBILITY_TIMEOUT"])
        options["unacked_restore_throttle"] = 10**9  # the sweep at start-up only
        app.conf.broker_transport_options = options
    app.worker_main(sys.argv[1:])


if __name__ == "__main__":
    main()
