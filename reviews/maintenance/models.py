"""Maintenance windows (service function `maintenance_planning`): models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import TenantOwned


class MaintenanceWindow(TenantOwned):
    """A planned maintenance of the customer's systems (the `maintenance` service function).

    Named contacts are notified when it is planned and again a few business days before it;
    `notice_sent_at` is the claim of that second notice, so it goes out exactly once."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"
    conflicts: list[dict[str, str]]  # set by reviews.maintenance.selectors.annotate_conflicts

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        CONFIRMED = "confirmed", _("Confirmed")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        verbose_name=_("engagement"),
    )
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    systems_affected = models.TextField(_("systems affected"), blank=True)
    expected_impact = models.TextField(_("expected impact"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("planned by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    notice_sent_at = models.DateTimeField(_("notice sent"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="maintenance_updated"),
            models.Index(fields=["engagement", "starts_at"], name="maintenance_calendar"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PLANNED, self.Status.CONFIRMED)
