"""FilterSet base: choices of related filters are scoped to the actor, like every queryset; the
filters every app shares (an id, several values of a choice)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import MultipleChoiceField
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


class CommaMultipleChoiceField(MultipleChoiceField):
    """Several values, repeated or comma-separated."""

    def to_python(self, value: Any) -> list[str]:
        values = super().to_python(value)
        return [part.strip() for item in values for part in item.split(",") if part.strip()]


class MultipleValuesFilter(django_filters.MultipleChoiceFilter):
    """One of several choices: `?status=new&status=in_progress` or `?status=new,in_progress`."""

    field_class = CommaMultipleChoiceField

    def filter(self, qs: QuerySet, value: list[str]) -> QuerySet:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})
