"""Time entries and the weekly hours budget: filters."""

from __future__ import annotations

import django_filters

from engagements.contracts.models import Engagement
from engagements.time.models import TimeEntry
from portal.filters import IdFilter, ScopedFilterSet


class TimeEntryFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    manager = IdFilter(field_name="manager_id")
    activity = django_filters.ChoiceFilter(choices=TimeEntry.Activity.choices)
    # `date_after` and `date_before`, both inclusive.
    date = django_filters.DateFromToRangeFilter()

    class Meta:
        model = TimeEntry
        fields = ["engagement", "manager", "activity", "date"]
