"""FilterSets of maintenance windows and changes, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from engagements.models import Engagement
from portal.filters import ScopedFilterSet
from reviews.models import ChangeItem, MaintenanceWindow


class MaintenanceWindowFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = django_filters.ChoiceFilter(choices=MaintenanceWindow.Status.choices)
    starts_after = django_filters.IsoDateTimeFilter(
        field_name="starts_at", lookup_expr="gte", label=_("starts at or after")
    )
    starts_before = django_filters.IsoDateTimeFilter(
        field_name="starts_at", lookup_expr="lt", label=_("starts before")
    )

    class Meta:
        model = MaintenanceWindow
        fields = ["engagement", "status", "starts_after", "starts_before"]


class ChangeItemFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = django_filters.ChoiceFilter(choices=ChangeItem.Status.choices)
    kind = django_filters.ChoiceFilter(choices=ChangeItem.Kind.choices)
    scheduled_after = django_filters.IsoDateTimeFilter(
        field_name="scheduled_at", lookup_expr="gte", label=_("scheduled at or after")
    )
    scheduled_before = django_filters.IsoDateTimeFilter(
        field_name="scheduled_at", lookup_expr="lt", label=_("scheduled before")
    )

    class Meta:
        model = ChangeItem
        fields = ["engagement", "status", "kind", "scheduled_after", "scheduled_before"]
