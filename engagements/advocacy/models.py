"""The advocacy log (service function `customer_advocacy`): models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.contracts.models import Engagement
from portal.tenancy.scoping import TenantOwned


class AdvocacyItem(TenantOwned):
    """Something the service manager carries into the vendor's organization for the customer:
    an enhancement request, a concern, or an escalation of interest, and what came of it."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Kind(models.TextChoices):
        ENHANCEMENT_REQUEST = "enhancement_request", _("Enhancement request")
        CONCERN = "concern", _("Concern")
        ESCALATION_OF_INTEREST = "escalation_of_interest", _("Escalation of interest")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RAISED_INTERNALLY = "raised_internally", _("Raised internally")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        DELIVERED = "delivered", _("Delivered")

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.PROTECT,
        related_name="advocacy_items",
        verbose_name=_("engagement"),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("raised by"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.TextField(_("outcome"), blank=True)
    internal_reference = models.CharField(_("internal reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("advocacy item")
        verbose_name_plural = _("advocacy items")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="advocacy_updated"),
            models.Index(fields=["engagement", "status"], name="advocacy_engagement"),
        ]

    def __str__(self) -> str:
        return self.title
