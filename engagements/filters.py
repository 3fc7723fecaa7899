"""One FilterSet per model of the engagements app, shared by the API and the pages.

Relations to tenant-owned models (organization, engagement) offer only what the actor may see
(`ScopedFilterSet`); people are filtered by id, so a filter value never tells whether a user exists.
"""

from __future__ import annotations

import zoneinfo
from datetime import date
from functools import reduce
from operator import or_

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.models import (
    Absence,
    AfterHoursRequest,
    Engagement,
    Plan,
    ServiceFunction,
    TimeEntry,
)
from portal.filters import IdFilter, ScopedFilterSet
from portal.tenancy.models import Organization


class PlanFilter(ScopedFilterSet):
    code = django_filters.CharFilter()

    class Meta:
        model = Plan
        fields = ["code", "deployment", "pricing"]


class ServiceFunctionFilter(ScopedFilterSet):
    code = django_filters.CharFilter()

    class Meta:
        model = ServiceFunction
        fields = ["code"]


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


class AbsenceFilter(ScopedFilterSet):
    manager = IdFilter(field_name="manager_id")
    kind = django_filters.ChoiceFilter(choices=Absence.Kind.choices)

    class Meta:
        model = Absence
        fields = ["manager", "kind"]


class AfterHoursRequestFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = django_filters.ChoiceFilter(choices=AfterHoursRequest.Status.choices)

    class Meta:
        model = AfterHoursRequest
        fields = ["engagement", "status"]


class TimeEntryFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    manager = IdFilter(field_name="manager_id")
    activity = django_filters.ChoiceFilter(choices=TimeEntry.Activity.choices)
    # `date_after` and `date_before`, both inclusive.
    date = django_filters.DateFromToRangeFilter()

    class Meta:
        model = TimeEntry
        fields = ["engagement", "manager", "activity", "date"]
