"""After-hours support requests: models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from engagements.contracts.models import Engagement
from portal.tenancy.scoping import TenantOwned


class AfterHoursRequest(TenantOwned):
    """A PoC's request for coverage outside business hours.

    Approved windows count as business time for the engagement.
    """

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Cancelled")

    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="after_hours_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="after_hours_ends_after_start"
            )
        ]
        indexes = [
            models.Index(fields=["updated_at", "id"], name="afterhours_updated"),
            models.Index(fields=["engagement", "status", "starts_at"], name="after_hours_window"),
        ]
        verbose_name = _("after-hours support request")
        verbose_name_plural = _("after-hours support requests")

    def __str__(self) -> str:
        return f"{self.engagement}: {self.starts_at:%Y-%m-%d %H:%M}"
