"""Celery discovers an app's jobs here: one import per feature that has jobs."""

from reviews.maintenance import tasks as maintenance_tasks  # noqa: F401
from reviews.scheduling import tasks as scheduling_tasks  # noqa: F401
