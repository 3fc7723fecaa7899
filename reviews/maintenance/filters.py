"""Maintenance windows (service function `maintenance_planning`): filters."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from engagements.contracts.models import Engagement
from portal.filters import ScopedFilterSet
from reviews.maintenance.models import MaintenanceWindow


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
