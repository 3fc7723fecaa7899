"""Release management: announced changes and their acknowledgements: filters."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from engagements.contracts.models import Engagement
from portal.filters import ScopedFilterSet
from reviews.releases.models import ChangeItem


class ChangeItemFilter(ScopedFilterSet):
    engagement = django_filters.ModelChoiceFilter(queryset=Engagement.objects.all())
    status = django_filters.ChoiceFilter(choices=ChangeItem.Status.choices)
    kind = django_filters.ChoiceFilter(choices=ChangeItem.Kind.choices)
    scheduled_after = django_filters.IsoDateTimeFilter(
        field_name="scheduled_at", lookup_expr="gte", label=_("scheduled at or after")
    )
    scheduled_before = django_filters.IsoDateTimeFilter(
        field_name="scheduled_at", lookup_expr="lt", label=_("scheduled before")
    )

    class Meta:
        model = ChangeItem
        fields = ["engagement", "status", "kind", "scheduled_after", "scheduled_before"]
