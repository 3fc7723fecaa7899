"""After-hours support requests: filters."""

from __future__ import annotations

import django_filters

from engagements.afterhours.models import AfterHoursRequest
from engagements.contracts.models import Engagement
from portal.filters import ScopedFilterSet


class AfterHoursRequestFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = django_filters.ChoiceFilter(choices=AfterHoursRequest.Status.choices)

    class Meta:
        model = AfterHoursRequest
        fields = ["engagement", "status"]
