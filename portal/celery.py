"""The Celery app: Redis when REDIS_URL is set, kombu's filesystem transport otherwise."""

import os

from celery import Celery

from portal.observability import connect_celery_signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task ids on task log lines and task outcomes for /metrics (portal/observability.py).
connect_celery_signals()
