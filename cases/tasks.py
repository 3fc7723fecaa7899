"""Periodic jobs of the cases app."""

from celery import shared_task

from cases.sla import scan
from portal.tenancy.scoping import system_scope


@shared_task(
    name="cases.tasks.scan_sla",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def scan_sla() -> dict[str, int]:
    """Remind at 75 % and notify at breach, each exactly once (see cases.sla)."""
    with system_scope("SLA scan across all engagements"):
        result = scan()
    return {
        "at_risk": result.at_risk,
        "breached": result.breached,
        "already_sent": result.already_sent,
    }


@shared_task(
    name="cases.tasks.remind_risk_reviews",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def remind_risk_reviews() -> dict[str, int]:
    """Remind of risks whose review date has come, once per risk and review date."""
    from cases.services_functions import remind_risk_reviews as remind

    with system_scope("risk review reminders across all engagements"):
        return remind()
