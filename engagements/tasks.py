"""Celery discovers an app's jobs here: one import per feature that has jobs."""

from engagements.time import tasks as time_tasks  # noqa: F401
