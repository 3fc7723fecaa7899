"""Periodic jobs of the reviews app: the scheduler, reminders and misses."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.dispatch import receiver
from django.utils import timezone

from engagements.contracts.models import Engagement
from engagements.signals import engagement_changed, plan_changed
from portal.tenancy.scoping import system_scope
from reviews.scheduling import reminders, scheduler

logger = logging.getLogger(__name__)


RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


@shared_task(
    name="reviews.scheduling.tasks.schedule_all",
    # Every engagement's horizon in one run: longer than the default task limits allow.
    soft_time_limit=settings.SCHEDULER_SOFT_TIME_LIMIT,
    time_limit=settings.SCHEDULER_TIME_LIMIT,
    **RETRY,
)
def schedule_all() -> dict[str, int]:
    """Daily: every active engagement's rolling horizon. Idempotent; safe to run at once."""
    with system_scope("daily scheduling of calls and deliverables"):
        totals = scheduler.schedule_all(timezone.now().date())
    return {
        "engagements": totals.engagements,
        "created": totals.created,
        "moved": totals.moved,
        "cancelled": totals.cancelled,
    }


@shared_task(name="reviews.scheduling.tasks.schedule_engagement", **RETRY)
def schedule_engagement(engagement_id: int) -> dict[str, int]:
    with system_scope("scheduling after an engagement changed"):
        engagement = Engagement.objects.filter(pk=engagement_id).first()
        if engagement is None:
            return {}
        result = scheduler.schedule_engagement(engagement)
    return {"created": result.created, "moved": result.moved, "cancelled": result.cancelled}


@shared_task(name="reviews.scheduling.tasks.remind_and_mark_missed", **RETRY)
def remind_and_mark_missed() -> dict[str, int]:
    with system_scope("occurrence reminders and misses"):
        reminded = reminders.send_due_reminders()
        missed = reminders.mark_missed()
    return {"reminded": reminded, "missed": missed}


def _enqueue_scheduling(engagement_id: int) -> None:
    """Enqueue the engagement's scheduling. If the broker is down the daily run catches up; the
    saved change must not turn into an error."""
    try:
        schedule_engagement.delay(engagement_id)
    except Exception:
        logger.warning(
            "Could not enqueue scheduling of engagement %s", engagement_id, exc_info=True
        )


@receiver(engagement_changed)
def _schedule_after_change(sender: object, engagement_id: int, **kwargs: object) -> None:
    """Sent after the engagement's transaction committed: enqueue its scheduling."""
    _enqueue_scheduling(engagement_id)


@receiver(plan_changed)
def _schedule_after_plan_change(sender: object, plan_id: int, **kwargs: object) -> None:
    """Sent after a change of the plan's matrix, cadences or settings committed: enqueue the
    scheduling of each of its active engagements, as after a change of the engagement."""
    try:
        with system_scope("scheduling the engagements of a changed plan"):
            engagement_ids = scheduler.active_engagement_ids(timezone.now().date(), plan_id)
    except DatabaseError:
        logger.exception("Could not read the engagements of plan %s to schedule", plan_id)
        return
    for engagement_id in engagement_ids:
        _enqueue_scheduling(engagement_id)
