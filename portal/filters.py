"""FilterSet base: choices of related filters are scoped to the actor, like every queryset."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from portal.tenancy.scoping import TenantOwned


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An object by its id (`?manager=12`): a whole number in the schema and on input, where a
    NumberFilter says `number` and reads `1.5`."""

    field_class = forms.IntegerField


class ScopedFilterSet(django_filters.FilterSet):
    """Model choice filters over tenant-owned models offer only what the actor may see.

    A filter value naming another tenant's object is refused exactly as one that does not exist.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for filter_ in self.filters.values():
            # Model choice filters keep their queryset on the instance (QuerySetRequestMixin).
            model = getattr(getattr(filter_, "queryset", None), "model", None)
            if model is not None and issubclass(model, TenantOwned):
                filter_.queryset = model._default_manager.all()
