"""Vendor news and roadmap announcements: filters."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from portal.filters import ScopedFilterSet
from reviews.publications.models import Publication


class PublicationFilter(ScopedFilterSet):
    kind = django_filters.ChoiceFilter(choices=Publication.Kind.choices)
    major = django_filters.BooleanFilter()
    published_after = django_filters.IsoDateTimeFilter(
        field_name="published_at", lookup_expr="gte", label=_("published at or after")
    )

    class Meta:
        model = Publication
        fields = ["kind", "major", "published_after"]
