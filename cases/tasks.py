"""Celery discovers an app's jobs here: the SLA scan (with the end-of-absence summaries), and
one import per feature that has jobs."""

from celery import shared_task

from cases.absences import send_absence_summaries
from cases.mailin import tasks as mailin_tasks  # noqa: F401
from cases.risks import tasks as risks_tasks  # noqa: F401
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
    """Remind at 75 % and notify at breach, each exactly once (see cases.sla); then tell
    people back from an absence what happened meanwhile, once each (see cases.absences)."""
    with system_scope("SLA scan across all engagements"):
        result = scan()
        summaries = send_absence_summaries()
    return {
        "at_risk": result.at_risk,
        "breached": result.breached,
        "already_sent": result.already_sent,
        "absence_summaries": summaries,
    }
