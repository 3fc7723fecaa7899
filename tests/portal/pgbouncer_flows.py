"""The portal's key flows through PgBouncer in transaction pooling, run as a separate process by
tests/portal/test_pgbouncer.py (DATABASE_URL names PgBouncer's port, DATABASE_POOLING=transaction).

    python -m tests.portal.pgbouncer_flows '{"engagement": 1, "poc": 2, "future_days": 30}'

Several threads (each with its own Django connection, so more clients than PgBouncer has server
connections) at once: raise cases through the API with Idempotency-Keys (and replay one), list
cases through the API and the page and iterate them with QuerySet.iterator(), run the SLA scan,
the outbox delivery and the scheduler; then two SLA scans and two deliveries at once, with
reminders due. Prints one JSON line of what was counted; the test asserts on it.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from cases.casework.models import Case, SlaReminder  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.notifications import OutboxEmail  # noqa: E402
from portal.tenancy.scoping import system_scope  # noqa: E402

errors: list[str] = []
lock = threading.Lock()


def in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    """Run the jobs at once, each in a thread with its own database connection."""
    results: list[Any] = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(index: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = job()
        except Exception:
            with lock:
                errors.append(traceback.format_exc())
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def main(arguments: dict[str, Any]) -> dict[str, Any]:
    database = settings.DATABASES["default"]
    with system_scope("PgBouncer flows: the actors"):
        poc = User.objects.get(pk=arguments["poc"])
    engagement_id = arguments["engagement"]
    out: dict[str, Any] = {
        "port": int(database["PORT"]),
        "server_side_cursors_disabled": database.get("DISABLE_SERVER_SIDE_CURSORS", False),
        "prepare_threshold": database.get("OPTIONS", {}).get("prepare_threshold", "unset"),
        "conn_max_age": database["CONN_MAX_AGE"],
    }

    def raise_cases() -> dict[str, Any]:
        client = APIClient()
        client.force_login(poc)
        ids, statuses = [], []
        for number in range(6):
            response = client.post(
                "/api/v1/cases/",
                {
                    "engagement": engagement_id,
                    "kind": "incident",
                    "severity": 1,
                    "subject": f"Through PgBouncer {number}",
                    "description": "Raised through transaction pooling.",
                },
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"pgbouncer-{number}",
            )
            statuses.append(response.status_code)
            if response.status_code == 201:
                ids.append(response.json()["id"])
        replay = client.post(
            "/api/v1/cases/",
            {
                "engagement": engagement_id,
                "kind": "incident",
                "severity": 1,
                "subject": "Through PgBouncer 0",
                "description": "Raised through transaction pooling.",
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY="pgbouncer-0",
        )
        return {
            "statuses": statuses,
            "ids": ids,
            "replayed": replay.get("Idempotent-Replayed") == "true",
            "replayed_id": replay.json().get("id"),
        }

    def list_cases() -> dict[str, Any]:
        api = APIClient()
        api.force_login(poc)
        page = Client()
        page.force_login(poc)
        statuses = Counter()
        for _ in range(8):
            statuses[api.get("/api/v1/cases/").status_code] += 1
            statuses[page.get("/cases/").status_code] += 1
        with system_scope("PgBouncer flows: iterate in chunks"):
            iterated = sum(1 for _ in Case.objects.order_by("pk").iterator(chunk_size=1))
        return {"statuses": dict(statuses), "iterated": iterated}

    def jobs() -> dict[str, Any]:
        """Every periodic job beat sends (the SLA scan, the outbox and webhook deliveries, the
        scheduler, reminders, digests, overages, …), three rounds, called as the worker would."""
        from django.utils.module_loading import import_string

        names = sorted({entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()})
        ran = Counter()
        for _ in range(3):
            for name in names:
                import_string(name)()
                ran[name] += 1
        return {"runs": min(ran.values()), "tasks": sorted(ran)}

    raised, listed, ran = in_threads(raise_cases, list_cases, jobs)
    out.update(raised=raised, listed=listed, jobs=ran)

    def iterate() -> int:
        """Rows one at a time, interleaved with two other threads doing the same: with a
        server-side cursor each FETCH may reach a server connection that has no such cursor."""
        from reviews.scheduling.models import Occurrence

        with system_scope("PgBouncer flows: iterate in chunks, three at once"):
            rows = 0
            for _ in range(3):
                rows += sum(1 for _ in Occurrence.objects.order_by("pk").iterator(chunk_size=1))
                rows += sum(1 for _ in Case.objects.order_by("pk").iterator(chunk_size=1))
            return rows

    out["iterated_at_once"] = in_threads(iterate, iterate, iterate)

    # Reminders due: two scans at once, then two deliveries at once.
    later = timezone.now() + timedelta(days=arguments.get("future_days", 30))

    def scan_later() -> dict[str, int]:
        from cases.sla import scan

        with system_scope("PgBouncer flows: SLA scan with reminders due"):
            result = scan(later)
        return {"at_risk": result.at_risk, "breached": result.breached}

    def deliver() -> list[int]:
        from portal.notifications import deliver_outbox

        with system_scope("PgBouncer flows: deliver the outbox"):
            sent, failed = deliver_outbox()
        return [sent, failed]

    scans = in_threads(scan_later, scan_later)
    deliveries = in_threads(deliver, deliver, deliver)
    with system_scope("PgBouncer flows: count what was produced"):
        reminders = list(SlaReminder.objects.values_list("case_id", "threshold"))
        out.update(
            scans=scans,
            deliveries=deliveries,
            reminders=len(reminders),
            reminder_duplicates=len(reminders) - len(set(reminders)),
            outbox_rows=OutboxEmail.objects.count(),
            outbox_unsent=OutboxEmail.objects.filter(sent_at__isnull=True).count(),
        )
    sent = getattr(mail, "outbox", [])
    keys = [(tuple(message.to), message.subject, message.body) for message in sent]
    out.update(mails_sent=len(sent), mail_duplicates=len(keys) - len(set(keys)))
    out["errors"] = errors
    return out


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    print("RESULT " + json.dumps(main(json.loads(sys.argv[1])), default=str))
