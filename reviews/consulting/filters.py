"""Environment consulting requests: filters."""

from __future__ import annotations

import django_filters

from engagements.contracts.models import Engagement
from portal.filters import ScopedFilterSet
from reviews.consulting.models import ConsultingRequest


class ConsultingRequestFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = django_filters.ChoiceFilter(choices=ConsultingRequest.Status.choices)

    class Meta:
        model = ConsultingRequest
        fields = ["engagement", "status"]
