"""The risk register (service function `risk_mitigation`): models."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import TenantOwned


class Risk(TenantOwned):
    """An entry of an engagement's risk register: how likely, how bad, and the plan against it.

    `score` is likelihood × impact, stored so reports can filter and sort on it; the services
    keep it consistent and a check constraint refuses anything else.
    """

    tenant_path = "engagement__organization"
    tenant_engagement_path = "engagement"

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MITIGATING = "mitigating", _("Mitigating")
        ACCEPTED = "accepted", _("Accepted")
        CLOSED = "closed", _("Closed")

    # Risks still being worked: their review dates are reminded and reports show them.
    ACTIVE_STATUSES = (Status.OPEN, Status.MITIGATING)

    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.PROTECT,
        related_name="risks",
        verbose_name=_("engagement"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    likelihood = models.PositiveSmallIntegerField(
        _("likelihood"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (rare) to 5 (almost certain)."),
    )
    impact = models.PositiveSmallIntegerField(
        _("impact"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (negligible) to 5 (severe)."),
    )
    score = models.PositiveSmallIntegerField(_("score"), editable=False)
    mitigation_plan = models.TextField(_("mitigation plan"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_risks",
        verbose_name=_("owner"),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    next_review_date = models.DateField(_("next review"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-score", "next_review_date", "id"]
        verbose_name = _("risk")
        verbose_name_plural = _("risks")
        indexes = [
            models.Index(fields=["updated_at", "id"], name="risk_updated"),
            models.Index(fields=["engagement", "status", "score"], name="risk_engagement"),
            # The review reminder scan: active risks by review date.
            models.Index(
                fields=["next_review_date"],
                name="risk_review_due",
                condition=Q(status__in=["open", "mitigating"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(likelihood__gte=1, likelihood__lte=5), name="risk_likelihood_range"
            ),
            models.CheckConstraint(
                condition=Q(impact__gte=1, impact__lte=5), name="risk_impact_range"
            ),
            models.CheckConstraint(
                condition=Q(score=models.F("likelihood") * models.F("impact")),
                name="risk_score_is_product",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class RiskReviewReminder(TenantOwned):
    """What the review reminder scan sent: one row per risk and review date, claimed in the
    transaction that notifies, so each reminder goes out exactly once."""

    tenant_path = "risk__engagement__organization"
    tenant_engagement_path = "risk__engagement"

    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="review_reminders")
    review_date = models.DateField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["risk", "review_date"], name="risk_review_reminder_once"
            )
        ]
        verbose_name = _("risk review reminder")
        verbose_name_plural = _("risk review reminders")

    def __str__(self) -> str:
        return f"{self.risk_id} {self.review_date}"
