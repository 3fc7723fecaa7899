"""Upgrade plans and their milestones (service function `upgrade_planning`): filters."""

from __future__ import annotations

import django_filters

from engagements.contracts.models import Engagement
from engagements.upgrades.models import UpgradePlan
from portal.filters import MultipleValuesFilter, ScopedFilterSet


class UpgradePlanFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = MultipleValuesFilter(choices=UpgradePlan.Status.choices)

    class Meta:
        model = UpgradePlan
        fields = ["engagement", "status"]
