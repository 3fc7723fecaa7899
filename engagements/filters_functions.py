"""FilterSets of the customer profiles, advocacy items and upgrade plans, shared by the API
and the pages."""

from __future__ import annotations

import django_filters

from engagements.models import AdvocacyItem, CustomerProfile, Engagement, UpgradePlan
from portal.filters import MultipleValuesFilter, ScopedFilterSet


class CustomerProfileFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())

    class Meta:
        model = CustomerProfile
        fields = ["engagement"]


class AdvocacyItemFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    kind = MultipleValuesFilter(choices=AdvocacyItem.Kind.choices)
    status = MultipleValuesFilter(choices=AdvocacyItem.Status.choices)

    class Meta:
        model = AdvocacyItem
        fields = ["engagement", "kind", "status"]


class UpgradePlanFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = MultipleValuesFilter(choices=UpgradePlan.Status.choices)

    class Meta:
        model = UpgradePlan
        fields = ["engagement", "status"]
