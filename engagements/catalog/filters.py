"""The service catalog (plans, service functions, the entitlement matrix, cadences): filters."""

from __future__ import annotations

import django_filters

from engagements.catalog.models import Plan, ServiceFunction
from portal.filters import ScopedFilterSet


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
