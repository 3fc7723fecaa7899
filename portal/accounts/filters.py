import django_filters

from portal.accounts.models import User
from portal.filters import ScopedFilterSet
from portal.tenancy.models import Membership, Organization


class UserFilter(ScopedFilterSet):
    organization = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.all(),
        field_name="memberships__organization",
        distinct=True,
    )
    role = django_filters.ChoiceFilter(
        choices=Membership.Role.choices, field_name="memberships__role", distinct=True
    )
    kind = django_filters.ChoiceFilter(choices=User.Kind.choices)
    is_active = django_filters.BooleanFilter()
    email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = User
        fields = ["organization", "role", "kind", "is_active", "email"]
