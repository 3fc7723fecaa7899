"""FilterSets of the risk register and the fix requests, shared by the API and the pages."""

from __future__ import annotations

import django_filters

from cases.models import Case, FixRequest, Risk
from engagements.models import Engagement
from portal.filters import IdFilter, MultipleValuesFilter, ScopedFilterSet


class RiskFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = MultipleValuesFilter(choices=Risk.Status.choices)
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Risk
        fields = ["engagement", "status", "owner"]


class FixRequestFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    vendor_status = MultipleValuesFilter(choices=FixRequest.VendorStatus.choices)
    case = django_filters.ModelChoiceFilter(queryset=Case.objects.all())

    class Meta:
        model = FixRequest
        fields = ["engagement", "vendor_status", "case"]
