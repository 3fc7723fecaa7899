"""The risk register (service function `risk_mitigation`): Celery tasks."""

from celery import shared_task

from portal.tenancy.scoping import system_scope


@shared_task(
    name="cases.risks.tasks.remind_risk_reviews",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def remind_risk_reviews() -> dict[str, int]:
    """Remind of risks whose review date has come, once per risk and review date."""
    from cases.risks.services import remind_risk_reviews as remind

    with system_scope("risk review reminders across all engagements"):
        return remind()
