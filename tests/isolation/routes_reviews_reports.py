"""Routes of the service review report, registered with the isolation harness."""

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.isolation.harness import Route, register

ALL = ("poc", "member", "manager")


def _review(tenant):
    """A service review of the tenant's engagement, made on first use."""
    if "review" not in tenant.objects:
        from reviews.scheduling.models import Occurrence

        engagement = tenant.objects["engagement"]
        tenant.objects["review"] = Occurrence.objects.create(
            engagement=engagement,
            deliverable="service_review",
            period="monthly:2026-06-01",
            scheduled_start=datetime(2026, 6, 1, 10, tzinfo=ZoneInfo(engagement.timezone)),
            method="video",
        )
    return tenant.objects["review"]


def review(world, tenant):
    return {"pk": _review(tenant).pk}


register(Route("review_report", "detail", kwargs=review, roles=ALL))
register(Route("review_report_csv", "detail", kwargs=review, roles=ALL))
