"""The customer profile (service function `customer_intelligence`): models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.contracts.models import Engagement
from portal.tenancy.scoping import TenantOwned


class CustomerProfile(TenantOwned):
    """What the provider knows of the customer's situation: roadmap, use cases, priorities and
    key dates. One per engagement; every change is in the audit trail (who, when, before, after)."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    TEXT_FIELDS = ("roadmap", "use_cases", "priorities", "key_dates")

    engagement = models.OneToOneField(
        Engagement,
        on_delete=models.PROTECT,
        related_name="customer_profile",
        verbose_name=_("engagement"),
    )
    roadmap = models.TextField(_("roadmap"), blank=True)
    use_cases = models.TextField(_("use cases"), blank=True)
    priorities = models.TextField(_("priorities"), blank=True)
    key_dates = models.TextField(_("key dates"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="customer_profile_updated")]
        ordering = ["engagement_id"]
        verbose_name = _("customer profile")
        verbose_name_plural = _("customer profiles")

    def __str__(self) -> str:
        return str(_("Customer profile of %(engagement)s") % {"engagement": self.engagement})
