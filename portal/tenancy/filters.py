import django_filters

from portal.filters import ScopedFilterSet
from portal.tenancy.models import Organization


class OrganizationFilter(ScopedFilterSet):
    is_active = django_filters.BooleanFilter()
    slug = django_filters.CharFilter()
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Organization
        fields = ["is_active", "slug", "name"]
