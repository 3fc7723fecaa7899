"""Absences of service managers and who is responsible meanwhile: filters."""

from __future__ import annotations

import django_filters

from engagements.absences.models import Absence
from portal.filters import IdFilter, ScopedFilterSet


class AbsenceFilter(ScopedFilterSet):
    manager = IdFilter(field_name="manager_id")
    kind = django_filters.ChoiceFilter(choices=Absence.Kind.choices)

    class Meta:
        model = Absence
        fields = ["manager", "kind"]
