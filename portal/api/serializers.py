"""Serializer pieces shared by every API: strict input and tenant-scoped related fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictSerializerMixin:
    """Unknown fields are an error, not silently dropped: a typo must not lose data."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))  # type: ignore[attr-defined]
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in unknown})
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    pass


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A writable relation whose choices are what the request's actor may see.

    `choices` takes the request and returns a queryset; by default the related model's scoped
    manager. Another tenant's id fails exactly as an id that does not exist.
    """

    def __init__(
        self,
        *,
        model: type[models.Model],
        choices: Callable[[Any], models.QuerySet] | None = None,
        **kwargs: Any,
    ) -> None:
        self.model = model
        self.choices_for = choices
        if not kwargs.get("read_only"):
            kwargs["queryset"] = model._default_manager.all()
        super().__init__(**kwargs)

    def get_queryset(self) -> models.QuerySet:
        if self.choices_for is not None:
            return self.choices_for(self.context.get("request"))
        return self.model._default_manager.all()
