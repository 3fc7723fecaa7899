"""Fix requests, software performance reports (service function `software_performance_report`):
reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cases.fixes.models import FixRequest
from engagements.contracts.models import Engagement
from engagements.entitlements import FunctionCode, is_entitled


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
    if not is_entitled(engagement, FunctionCode.SOFTWARE_PERFORMANCE_REPORTS):
        return report
    for fix in FixRequest.objects.filter(engagement=engagement).select_related("case"):
        report.by_status[fix.vendor_status] += 1
        (report.ranked if fix.is_open else report.closed).append(fix)
    report.ranked.sort(key=lambda fix: (fix.customer_rank, fix.pk))
    report.closed.sort(key=lambda fix: (fix.updated_at, fix.pk), reverse=True)
    return report
