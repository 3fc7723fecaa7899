"""FilterSets of publications and consulting requests, shared by the API and the pages."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from engagements.models import Engagement
from portal.filters import ScopedFilterSet
from reviews.models import ConsultingRequest, Publication


class PublicationFilter(ScopedFilterSet):
    kind = django_filters.ChoiceFilter(choices=Publication.Kind.choices)
    major = django_filters.BooleanFilter()
    published_after = django_filters.IsoDateTimeFilter(
        field_name="published_at", lookup_expr="gte", label=_("published at or after")
    )

    class Meta:
        model = Publication
        fields = ["kind", "major", "published_after"]


class ConsultingRequestFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = django_filters.ChoiceFilter(choices=ConsultingRequest.Status.choices)

    class Meta:
        model = ConsultingRequest
        fields = ["engagement", "status"]
