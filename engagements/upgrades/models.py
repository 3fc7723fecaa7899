"""Upgrade plans and their milestones (service function `upgrade_planning`): models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.contracts.models import Engagement
from portal.tenancy.scoping import TenantOwned


class UpgradePlan(TenantOwned):
    """The strategy and schedule of one upgrade, from the version in use to the target."""

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AGREED = "agreed", _("Agreed")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.PROTECT,
        related_name="upgrade_plans",
        verbose_name=_("engagement"),
    )
    current_version = models.CharField(_("current version"), max_length=100)
    target_version = models.CharField(_("target version"), max_length=100)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="upgrade_plan_updated")]
        ordering = ["-created_at", "-id"]
        verbose_name = _("upgrade plan")
        verbose_name_plural = _("upgrade plans")

    def __str__(self) -> str:
        return f"{self.current_version} → {self.target_version}"


class UpgradeMilestone(TenantOwned):
    """A step of an upgrade plan, owned by a user of the portal or someone named."""

    tenant_path = "plan__engagement__organization"
    tenant_engagement_path = "plan__engagement"

    plan = models.ForeignKey(
        UpgradePlan,
        on_delete=models.CASCADE,
        related_name="milestones",
        verbose_name=_("upgrade plan"),
    )
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
    )
    owner_name = models.CharField(_("owner name"), max_length=200, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = [models.F("due_date").asc(nulls_last=True), "id"]
        verbose_name = _("upgrade milestone")
        verbose_name_plural = _("upgrade milestones")

    def __str__(self) -> str:
        return self.title
