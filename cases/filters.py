"""The FilterSet of cases, shared by the API and the pages, and the SLA state both show.

Relations to tenant-owned models (engagement) offer only what the actor may see
(`ScopedFilterSet`); people are filtered by id. `status`, `kind` and `severity` take several
values, repeated (`?status=new&status=in_progress`) or comma-separated (`?status=new,in_progress`).
"""

from __future__ import annotations

from datetime import datetime

import django_filters
from django.db.models import F, Q, QuerySet, TextChoices
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case
from engagements.models import Engagement
from portal.filters import IdFilter, MultipleValuesFilter, ScopedFilterSet

# --- The SLA state -----------------------------------------------------------------------------


class Sla(TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    RESPONDED = "responded", _("Responded")


def case_sla(case: Case, now: datetime) -> tuple[str, bool | None]:
    """(state, response met) of one item.

    The clock runs until the first response; an item resolved without one keeps the state it
    had when it was resolved. `response met` is known once responded (on time or not) or
    breached (False), and None while the objective can still be met.
    """
    if case.first_response_at is not None:
        return Sla.RESPONDED, case.first_response_at <= case.response_due_at
    clock = case.resolved_at or now
    if case.response_due_at <= clock:
        return Sla.BREACHED, False
    if case.reminder_due_at <= clock:
        return Sla.AT_RISK, None
    return Sla.ON_TRACK, None


def sla_condition(state: str, now: datetime) -> Q:
    """The database condition of `case_sla(...)[0] == state`."""
    if state == Sla.RESPONDED:
        return Q(first_response_at__isnull=False)
    running = Q(resolved_at__isnull=True)
    stopped = Q(resolved_at__isnull=False)
    if state == Sla.BREACHED:
        condition = (running & Q(response_due_at__lte=now)) | (
            stopped & Q(response_due_at__lte=F("resolved_at"))
        )
    elif state == Sla.AT_RISK:
        condition = (running & Q(reminder_due_at__lte=now, response_due_at__gt=now)) | (
            stopped & Q(reminder_due_at__lte=F("resolved_at"), response_due_at__gt=F("resolved_at"))
        )
    else:
        condition = (running & Q(reminder_due_at__gt=now)) | (
            stopped & Q(reminder_due_at__gt=F("resolved_at"))
        )
    return Q(first_response_at__isnull=True) & condition


# --- The FilterSet -----------------------------------------------------------------------------


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
