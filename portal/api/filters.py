"""The API's filter backend: strict like all API input.

django-filter skips a filter whose value is empty or unreadable (`?done=maybe`, `?engagement=`,
`?starts_before=`) and answers the unfiltered list, so a typo reads as "no such filter" and
shows more than was asked for. The API answers 400 `validation_error` instead. Pages keep
django-filter's lenient behaviour: their forms submit empty fields.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# Django's own "Enter a valid value." (translated in Django's catalogs).
INVALID = RegexValidator.message
BOOLEANS = frozenset({"true", "false", "1", "0"})


def _parameters(name: str, filter_: Any) -> list[str]:
    """The query parameters a filter reads: range filters read `<name>_after` and so on."""
    suffixes = getattr(filter_.field.widget, "suffixes", None)
    return [f"{name}_{suffix}" if suffix else name for suffix in suffixes] if suffixes else [name]


def unreadable(filterset: Any, params: Any) -> list[str]:
    """Filters given a value they would ignore: empty (except free text), a boolean other
    than true/false/1/0 (django-filter also reads "2" and "3" as true and false), or a value
    that cleans to nothing."""
    names = []
    cleaned = filterset.form.cleaned_data
    for name, filter_ in filterset.filters.items():
        if issubclass(filter_.field_class, forms.CharField):
            continue
        given = [param for param in _parameters(name, filter_) if param in params]
        if not given:
            continue
        raw = [params.get(param, "").strip() for param in given]
        boolean = issubclass(filter_.field_class, forms.BooleanField)
        if (
            "" in raw
            or (boolean and raw[0].lower() not in BOOLEANS)
            or cleaned.get(name) in (None, "", [], ())
        ):
            names.append(given[0])
    return names


_parameters_of: dict[type, frozenset[str]] = {}


def filter_parameters(filterset_class: type) -> frozenset[str]:
    """Every query parameter a FilterSet class reads (range filters read two)."""
    names = _parameters_of.get(filterset_class)
    if names is None:
        # On copies, as a FilterSet copies them: a class's filter keeps the form field it
        # builds, which must be built in each FilterSet (scoped choices).
        filters = copy.deepcopy(filterset_class.base_filters)  # type: ignore[attr-defined]
        names = frozenset(
            parameter
            for name, filter_ in filters.items()
            for parameter in _parameters(name, filter_)
        )
        _parameters_of[filterset_class] = names
    return names


class StrictDjangoFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None and filter_parameters(filterset_class).isdisjoint(
            request.query_params
        ):
            # No filter named: the FilterSet would answer the queryset unchanged
            # (tests/portal/test_api_filters.py checks each), and building it — its form, its
            # scoped choices — cost more than the rest of a list request (issue 17).
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        names = unreadable(filterset, request.query_params)
        cleaned = filterset.form.cleaned_data
        for name, value in cleaned.items():
            try:
                cleaned[name] = _in_utc(value)
            except OverflowError:
                names.append(name)
        if names:
            raise ValidationError({name: [str(INVALID)] for name in names})
        return filterset.qs


def _in_utc(value: Any) -> Any:
    """Datetimes in UTC: any offset Python reads (up to ±23:59) reaches the query as one
    PostgreSQL takes (it refuses displacements over 15:59 with an error, a 500)."""
    if isinstance(value, slice):
        return slice(_in_utc(value.start), _in_utc(value.stop))
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value
