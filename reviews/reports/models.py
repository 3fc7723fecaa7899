"""The service review report: models."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from portal.tenancy.scoping import TenantOwned
from reviews.scheduling.models import Occurrence


class ReportSnapshot(TenantOwned):
    """The service review report as delivered: frozen when the review is completed."""

    tenant_path = "occurrence__engagement__organization"
    tenant_engagement_path = "occurrence__engagement"

    occurrence = models.OneToOneField(
        Occurrence, on_delete=models.CASCADE, related_name="report_snapshot"
    )
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"report {self.occurrence_id}"
