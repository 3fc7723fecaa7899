"""Fix requests, software performance reports (service function `software_performance_report`):
filters.
"""

from __future__ import annotations

import django_filters

from cases.casework.models import Case
from cases.fixes.models import FixRequest
from engagements.contracts.models import Engagement
from portal.filters import MultipleValuesFilter, ScopedFilterSet


class FixRequestFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    vendor_status = MultipleValuesFilter(choices=FixRequest.VendorStatus.choices)
    case = django_filters.ModelChoiceFilter(queryset=Case.objects.all())

    class Meta:
        model = FixRequest
        fields = ["engagement", "vendor_status", "case"]
