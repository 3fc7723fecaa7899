"""Periodic job of the maintenance service function: the notice a few business days before."""

from celery import shared_task

from portal.tenancy.scoping import system_scope
from reviews.maintenance import services as services_functions
from reviews.scheduling.tasks import RETRY


@shared_task(name="reviews.maintenance.tasks.send_maintenance_notices", **RETRY)
def send_maintenance_notices() -> dict[str, int]:
    """Every few minutes: notify named contacts of windows whose notice is due, each once."""
    with system_scope("maintenance notices"):
        sent = services_functions.send_maintenance_notices()
    return {"sent": sent}
