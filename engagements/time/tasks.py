"""Periodic jobs of the engagements app."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from engagements.contracts.models import Engagement
from engagements.time.services import overage_evaluate
from portal.tenancy.scoping import system_scope


@shared_task(name="engagements.time.tasks.evaluate_overages", acks_late=True)
def evaluate_overages() -> dict[str, int]:
    """Raise or clear every active engagement's overage flag; safe to run twice or at once."""
    raised = 0
    with system_scope("nightly overage evaluation across all engagements"):
        today = timezone.now().date()
        ids = list(
            Engagement.objects.filter(
                start_date__lte=today, end_date__gte=today - timedelta(days=28)
            ).values_list("id", flat=True)
        )
        for engagement_id in ids:
            engagement = Engagement.objects.get(pk=engagement_id)
            if overage_evaluate(engagement=engagement) is not None:
                raised += 1
    return {"engagements": len(ids), "flagged": raised}
