"""Celery beat's scheduler, with a heartbeat file for a healthcheck.

A beat process can be alive and stuck (a lost broker connection it waits on forever); the
container's healthcheck then needs proof that it still schedules. Every tick of this scheduler
(at least every beat_max_loop_interval) touches BEAT_HEARTBEAT_FILE; docker-compose.yml's beat
healthcheck fails when the file is older than a few minutes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        try:
            Path(settings.BEAT_HEARTBEAT_FILE).touch()
        except OSError as exc:  # the healthcheck reports it; scheduling goes on
            logger.warning("Beat heartbeat file not written: %s", exc)
        return interval
