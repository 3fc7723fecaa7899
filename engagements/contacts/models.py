"""Named contacts of an engagement (at most three): models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.contracts.models import Engagement
from portal.tenancy.scoping import TenantOwned


class Contact(TenantOwned):
    """A named point of contact of an engagement. Removal ends it; the row stays as history."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="contacts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contact_roles",
        verbose_name=_("user"),
    )
    added_at = models.DateTimeField(_("added"), default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["engagement_id", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "user"],
                condition=Q(removed_at__isnull=True),
                name="contact_active_unique",
            )
        ]
        indexes = [
            models.Index(fields=["engagement", "removed_at"], name="contact_active"),
            models.Index(fields=["updated_at", "id"], name="contact_updated"),
        ]
        verbose_name = _("named contact")
        verbose_name_plural = _("named contacts")

    def __str__(self) -> str:
        return f"{self.user} @ {self.engagement}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None
