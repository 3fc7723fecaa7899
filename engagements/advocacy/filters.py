"""The advocacy log (service function `customer_advocacy`): filters."""

from __future__ import annotations

import django_filters

from engagements.advocacy.models import AdvocacyItem
from engagements.contracts.models import Engagement
from portal.filters import MultipleValuesFilter, ScopedFilterSet


class AdvocacyItemFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    kind = MultipleValuesFilter(choices=AdvocacyItem.Kind.choices)
    status = MultipleValuesFilter(choices=AdvocacyItem.Status.choices)

    class Meta:
        model = AdvocacyItem
        fields = ["engagement", "kind", "status"]
