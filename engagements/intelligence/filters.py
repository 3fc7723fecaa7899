"""The customer profile (service function `customer_intelligence`): filters."""

from __future__ import annotations

import django_filters

from engagements.contracts.models import Engagement
from engagements.intelligence.models import CustomerProfile
from portal.filters import ScopedFilterSet


class CustomerProfileFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())

    class Meta:
        model = CustomerProfile
        fields = ["engagement"]
