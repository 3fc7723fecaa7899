"""Benchmark (not a test): the SLA scanner over 100,000 open items on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_sla_bench \
        .venv/bin/python bench/bench_sla_scan.py

Creates the database's schema if needed, loads 100,000 open unanswered items across 300
engagements (1,000 of them past their 75 % time and 500 past due), then times one full scan
(which claims and sends 1,500 reminders) and a second scan that finds nothing left to send.
"""

import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from cases import sla  # noqa: E402
from cases.casework.models import Case, SlaReminder  # noqa: E402
from engagements.catalog.models import Plan  # noqa: E402
from engagements.contracts.models import Engagement  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.notifications import Notification, OutboxEmail  # noqa: E402
from portal.tenancy.models import Organization  # noqa: E402
from portal.tenancy.scoping import system_scope  # noqa: E402

TOTAL, AT_RISK, BREACHED, ENGAGEMENTS = 100_000, 1_000, 500, 300


def load() -> None:
    now = timezone.now()
    managers = [
        User.objects.create_user(f"bench-manager-{n}@bench.test", kind="manager") for n in range(20)
    ]
    plan = Plan.objects.get(code="premium")
    engagements = []
    for n in range(ENGAGEMENTS):
        organization = Organization.objects.create(name=f"Bench {n}", slug=f"bench-{n}")
        engagements.append(
            Engagement.objects.create(
                organization=organization,
                plan=plan,
                start_date=now.date() - timedelta(days=30),
                end_date=now.date() + timedelta(days=300),
                manager=managers[n % 20],
                deputy=managers[(n + 1) % 20],
                timezone="Europe/Berlin",
            )
        )
    rows = []
    for n in range(TOTAL):
        if n < BREACHED:
            reminder, due = now - timedelta(hours=10), now - timedelta(hours=1)
        elif n < AT_RISK + BREACHED:
            reminder, due = now - timedelta(minutes=30), now + timedelta(hours=2)
        else:
            reminder, due = now + timedelta(hours=6), now + timedelta(hours=8)
        engagement = engagements[n % ENGAGEMENTS]
        rows.append(
            Case(
                engagement=engagement,
                kind="inquiry",
                severity=3,
                subject=f"bench {n}",
                received_at=now - timedelta(hours=12),
                response_due_at=due,
                reminder_due_at=reminder,
                raised_by=engagement.manager,
                assignee=engagement.manager,
            )
        )
    Case.objects.bulk_create(rows, batch_size=5000)


def main() -> None:
    call_command("migrate", verbosity=0)
    with system_scope("benchmark"):
        if Organization.objects.filter(slug="org-00001").exists():
            raise SystemExit(
                "This database holds the generated data set, which this script would delete: "
                "use an empty database (or bench/bench_sla_scan_dataset.py for the data set)."
            )
        for model in (SlaReminder, OutboxEmail, Notification):
            model.objects.all().delete()
        if Case.objects.filter(subject__startswith="bench").count() != TOTAL:
            Case.objects.all().delete()
            Engagement.objects.all().delete()
            Organization.objects.filter(slug__startswith="bench-").delete()
            User.objects.filter(email__endswith="@bench.test").delete()
            started = time.perf_counter()
            load()
            print(f"loaded {TOTAL:,} open items in {time.perf_counter() - started:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_case")
        started = time.perf_counter()
        result = sla.scan()
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = sla.scan()
        second = time.perf_counter() - started
    print(f"scan 1: {first:.2f} s — at risk {result.at_risk}, breached {result.breached}")
    print(f"scan 2: {second:.3f} s — at risk {again.at_risk}, breached {again.breached}")


if __name__ == "__main__":
    main()
