"""Release management: announced changes and their acknowledgements: models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import TenantOwned


class ChangeItem(TenantOwned):
    """A platform, software or architecture change (the `release_management` service function)
    that the engagement's named contacts acknowledge."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Kind(models.TextChoices):
        PLATFORM = "platform", _("Platform")
        SOFTWARE = "software", _("Software")
        ARCHITECTURE = "architecture", _("Architecture")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")
        ROLLED_BACK = "rolled_back", _("Rolled back")

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("engagement"),
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    scheduled_at = models.DateTimeField(_("scheduled"))
    impact = models.TextField(_("impact"), blank=True)
    rollback_plan = models.TextField(_("rollback plan"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="change_item_updated"),
            models.Index(fields=["engagement", "scheduled_at"], name="change_calendar"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.PLANNED, self.Status.SCHEDULED)


class ChangeAcknowledgement(TenantOwned):
    """A named contact has read a change. One per change and person."""

    tenant_path = "change__engagement__organization"
    tenant_engagement_path = "change__engagement"

    change = models.ForeignKey(
        ChangeItem,
        on_delete=models.CASCADE,
        related_name="acknowledgements",
        verbose_name=_("change"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), default=timezone.now)

    class Meta:
        ordering = ["acknowledged_at", "id"]
        verbose_name = _("change acknowledgement")
        verbose_name_plural = _("change acknowledgements")
        constraints = [
            models.UniqueConstraint(fields=["change", "user"], name="change_acknowledged_once"),
        ]

    def __str__(self) -> str:
        return f"{self.change_id} acknowledged by {self.user_id}"
