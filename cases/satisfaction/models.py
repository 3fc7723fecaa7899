"""The customer's rating of a resolution (1–5 and an optional comment): models."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.tenancy.scoping import TenantOwned


class CaseRating(TenantOwned):
    """How satisfied the customer is with the resolution of one item: one rating per item,
    which its author's side may change for a while (`cases.satisfaction.services`)."""

    tenant_path = "case__engagement__organization"
    tenant_engagement_path = "case__engagement"

    SCORE_MIN = 1
    SCORE_MAX = 5

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="rating", verbose_name=_("case")
    )
    score = models.PositiveSmallIntegerField(
        _("rating"),
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)],
        help_text=_("1 (very dissatisfied) to 5 (very satisfied)."),
    )
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("rated by"),
    )
    rated_at = models.DateTimeField(_("rated"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("resolution rating")
        verbose_name_plural = _("resolution ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="case_rating_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}"
