"""Environment consulting requests: models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import TenantOwned
from reviews.scheduling.models import Occurrence


class ConsultingRequest(TenantOwned):
    """A named contact asks for environment consulting (Premium); staff turn it into a session."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        DECLINED = "declined", _("Declined")

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        related_name="consulting_requests",
        verbose_name=_("engagement"),
    )
    topic = models.CharField(_("topic"), max_length=200)
    environment_details = models.TextField(_("environment details"), blank=True)
    desired_dates = models.TextField(_("desired dates"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    session = models.ForeignKey(
        Occurrence,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("session"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consulting request")
        verbose_name_plural = _("consulting requests")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="consulting_updated"),
            models.Index(fields=["engagement", "-created_at"], name="consulting_by_engagement"),
        ]

    def __str__(self) -> str:
        return self.topic
