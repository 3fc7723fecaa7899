"""The risk register (service function `risk_mitigation`): reads."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db.models import QuerySet

from cases.risks.models import Risk
from engagements.entitlements import FunctionCode, entitled_plan_ids


def high_risks(engagement_ids: Iterable[int], *, threshold: int | None = None) -> QuerySet[Risk]:
    """Open or mitigating risks scoring above `threshold` (default: the setting
    RISK_REPORT_THRESHOLD) on those engagements whose plan includes risk mitigation, highest
    score first. One query when listed."""
    limit = settings.RISK_REPORT_THRESHOLD if threshold is None else threshold
    return (
        Risk.objects.filter(
            engagement_id__in=list(engagement_ids),
            status__in=Risk.ACTIVE_STATUSES,
            score__gt=limit,
            # The plans from the cached catalog: the engagement is joined for its name anyway,
            # where a subquery over plans, entitlements and functions cost 1 ms of planning.
            engagement__plan_id__in=entitled_plan_ids(FunctionCode.RISK_MITIGATION),
        )
        .select_related("engagement", "owner")
        .order_by("-score", "next_review_date", "id")
    )
