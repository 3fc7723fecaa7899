"""Engagements, the contracts between the vendor and a customer organization: filters."""

from __future__ import annotations

import zoneinfo
from datetime import date
from functools import reduce
from operator import or_

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.catalog.models import Plan
from engagements.contracts.models import Engagement
from portal.filters import IdFilter, ScopedFilterSet
from portal.tenancy.models import Organization


def _status_condition(status: str, today: date) -> Q:
    if status == Engagement.Status.UPCOMING:
        return Q(start_date__gt=today)
    if status == Engagement.Status.EXPIRED:
        return Q(end_date__lt=today)
    return Q(start_date__lte=today, end_date__gte=today)


class EngagementFilter(ScopedFilterSet):
    organization = django_filters.ModelChoiceFilter(queryset=Organization.objects.all())
    plan = django_filters.ModelChoiceFilter(
        queryset=Plan.objects.all(), to_field_name="code", label=_("plan (code)")
    )
    manager = IdFilter(field_name="manager_id")
    deputy = IdFilter(field_name="deputy_id")
    status = django_filters.ChoiceFilter(
        choices=Engagement.Status.choices, method="filter_status", label=_("status")
    )
    language = django_filters.ChoiceFilter(choices=Engagement.Language.choices)

    class Meta:
        model = Engagement
        fields = ["organization", "plan", "manager", "deputy", "status", "language"]

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The status is derived from the term and "today" in each engagement's own zone, as
        `Engagement.status` is: one condition per time zone in use (one extra query)."""
        if not value:
            return queryset
        now = timezone.now()
        zones = queryset.order_by().values_list("timezone", flat=True).distinct()
        conditions = [
            Q(timezone=zone)
            & _status_condition(value, now.astimezone(zoneinfo.ZoneInfo(zone)).date())
            for zone in zones
        ]
        if not conditions:
            return queryset.none()
        return queryset.filter(reduce(or_, conditions))
