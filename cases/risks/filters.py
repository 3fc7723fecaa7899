"""The risk register (service function `risk_mitigation`): filters."""

from __future__ import annotations

import django_filters

from cases.risks.models import Risk
from engagements.contracts.models import Engagement
from portal.filters import IdFilter, MultipleValuesFilter, ScopedFilterSet


class RiskFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = MultipleValuesFilter(choices=Risk.Status.choices)
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = Risk
        fields = ["engagement", "status", "owner"]
