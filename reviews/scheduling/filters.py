"""One FilterSet per model of the reviews app, shared by the API and the pages.

Relations to tenant-owned models (engagement, occurrence) offer only what the actor may see
(`ScopedFilterSet`); people are filtered by id, so a filter value never tells whether a user exists.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from engagements.catalog.models import Method
from engagements.contracts.models import Engagement
from portal.filters import IdFilter, ScopedFilterSet
from reviews.scheduling.models import ActionItem, Occurrence


class OccurrenceFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    deliverable = django_filters.CharFilter(
        label=_("deliverable (a service function code or weekly_call)")
    )
    status = django_filters.ChoiceFilter(choices=Occurrence.Status.choices)
    method = django_filters.ChoiceFilter(choices=Method.choices)
    scheduled_after = django_filters.IsoDateTimeFilter(
        field_name="scheduled_start", lookup_expr="gte", label=_("starts at or after")
    )
    scheduled_before = django_filters.IsoDateTimeFilter(
        field_name="scheduled_start", lookup_expr="lt", label=_("starts before")
    )

    class Meta:
        model = Occurrence
        fields = [
            "engagement",
            "deliverable",
            "status",
            "method",
            "scheduled_after",
            "scheduled_before",
        ]


class ActionItemFilter(ScopedFilterSet):
    occurrence = django_filters.ModelChoiceFilter(queryset=Occurrence.objects.all())
    done = django_filters.BooleanFilter()
    owner = IdFilter(field_name="owner_id")

    class Meta:
        model = ActionItem
        fields = ["occurrence", "done", "owner"]
