"""The Celery app: Redis when REDIS_URL is set, kombu's filesystem transport otherwise."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def setup_periodic_tasks(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.add_periodic_task(
        settings.HEARTBEAT_INTERVAL_SECONDS,
        sender.signature("portal.tasks.heartbeat"),
        name="heartbeat",
    )
