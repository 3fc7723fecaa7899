"""Fix requests, software performance reports (service function `software_performance_report`):
models.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.casework.models import Case
from portal.tenancy.scoping import TenantOwned


class FixRequest(TenantOwned):
    """A fix of the vendor's software the customer asks for, ranked by the customer's priority.

    Open requests of an engagement hold the ranks 1..n, each once; a request keeps its last
    rank when it is released or declined (history), and the rest are re-numbered.
    """

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class VendorStatus(models.TextChoices):
        NEW = "new", _("New")
        UNDER_REVIEW = "under_review", _("Under review")
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        RELEASED = "released", _("Released")
        DECLINED = "declined", _("Declined")

    OPEN_STATUSES = (
        VendorStatus.NEW,
        VendorStatus.UNDER_REVIEW,
        VendorStatus.PLANNED,
        VendorStatus.IN_PROGRESS,
    )

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.PROTECT,
        related_name="fix_requests",
        verbose_name=_("engagement"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    case = models.ForeignKey(
        Case,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fix_requests",
        verbose_name=_("case"),
    )
    customer_rank = models.PositiveIntegerField(
        _("customer rank"), help_text=_("1 is the customer's most important fix.")
    )
    vendor_status = models.CharField(
        _("vendor status"), max_length=16, choices=VendorStatus.choices, default=VendorStatus.NEW
    )
    target_release = models.CharField(_("target release"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="fix_updated")]
        ordering = ["engagement_id", "customer_rank", "id"]
        verbose_name = _("fix request")
        verbose_name_plural = _("fix requests")
        constraints = [
            models.CheckConstraint(condition=Q(customer_rank__gte=1), name="fix_rank_positive"),
            models.UniqueConstraint(
                fields=["engagement", "customer_rank"],
                condition=Q(vendor_status__in=["new", "under_review", "planned", "in_progress"]),
                name="fix_rank_unique_open",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.vendor_status in self.OPEN_STATUSES
