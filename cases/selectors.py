"""Reads of the cases app's service functions for reports and boards: high risks and the
customer's ranked fix requests. They run inside the caller's tenant scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet

from cases.models import FixRequest, Risk
from engagements.entitlements import entitled_to, is_entitled
from engagements.models import Engagement


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
            **entitled_to("risk_mitigation"),
        )
        .select_related("engagement", "owner")
        .order_by("-score", "next_review_date", "id")
    )


@dataclass
class FixReport:
    """The customer's ranking of open fix requests and what the vendor did with the rest."""

    ranked: list[FixRequest] = field(default_factory=list)  # open, by customer rank
    closed: list[FixRequest] = field(default_factory=list)  # released or declined, newest first
    by_status: dict[str, int] = field(default_factory=dict)


def fix_requests_for_report(engagement: Engagement) -> FixReport:
    """The engagement's fix requests for its service review report (empty where the plan lacks
    software performance reports). One query, plus the entitlement lookup."""
    report = FixReport(by_status=dict.fromkeys(FixRequest.VendorStatus.values, 0))
    if not is_entitled(engagement, "software_performance_reports"):
        return report
    for fix in FixRequest.objects.filter(engagement=engagement).select_related("case"):
        report.by_status[fix.vendor_status] += 1
        (report.ranked if fix.is_open else report.closed).append(fix)
    report.ranked.sort(key=lambda fix: (fix.customer_rank, fix.pk))
    report.closed.sort(key=lambda fix: (fix.updated_at, fix.pk), reverse=True)
    return report
