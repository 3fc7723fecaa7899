"""Shared set-up of the benchmarks that run over the generated data set (`generate_dataset`).

They need DATABASE_URL pointing at the data set's database (default: portal_bench on
127.0.0.1). Production settings (DEBUG off, so no query log grows); nothing is sent.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "localhost")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
os.environ.setdefault("PORTAL_VAR_DIR", str(Path(__file__).resolve().parents[1] / "var" / "bench"))

import django

django.setup()


class Rollback(Exception):
    """Raised to leave a transaction.atomic() block rolled back."""


def require_dataset() -> None:
    from portal.tenancy.models import Organization

    if not Organization._base_manager.filter(slug="org-00001").exists():
        raise SystemExit(
            "No generated data set here: run `manage.py generate_dataset` on this database first."
        )


class QueryCounter:
    """Counts the statements run inside `with connection.execute_wrapper(counter):`."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def print_load() -> None:
    """The machine's 1/5/15-minute load average: the cores are shared, so say how busy."""
    one, five, fifteen = os.getloadavg()
    print(f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores")
