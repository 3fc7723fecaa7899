"""Inquiries and cases, from raising to resolution: filters."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.casework.models import Case
from cases.sla import Sla, sla_condition
from engagements.contracts.models import Engagement
from portal.filters import IdFilter, MultipleValuesFilter, ScopedFilterSet


class CaseFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    assignee = IdFilter(field_name="assignee_id")
    unassigned = django_filters.BooleanFilter(
        field_name="assignee", lookup_expr="isnull", label=_("in the provider queue")
    )
    raised_by = IdFilter(field_name="raised_by_id")
    status = MultipleValuesFilter(choices=Case.Status.choices)
    kind = MultipleValuesFilter(choices=Case.Kind.choices)
    severity = MultipleValuesFilter(choices=Case.Severity.choices)
    sla = django_filters.ChoiceFilter(choices=Sla.choices, method="filter_sla", label=_("SLA"))
    # escalated=true excludes the items with no escalation time, and the other way round.
    escalated = django_filters.BooleanFilter(
        field_name="escalated_at", lookup_expr="isnull", exclude=True, label=_("escalated")
    )
    # `received_after` and `received_before`, both inclusive.
    received = django_filters.IsoDateTimeFromToRangeFilter(field_name="received_at")

    class Meta:
        model = Case
        fields = [
            "engagement",
            "assignee",
            "unassigned",
            "raised_by",
            "status",
            "kind",
            "severity",
            "sla",
            "escalated",
            "received",
        ]

    def filter_sla(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(sla_condition(value, timezone.now()))
