"""Serializer pieces shared by every API: strict input and tenant-scoped related fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from portal.text import NUL_MESSAGE, contains_nul, control_character_error

TEXTAREA = "textarea.html"
# The style of a declared multi-line CharField (comments, notes, minutes).
MULTILINE = {"base_template": TEXTAREA}


def is_multiline(field: serializers.Field) -> bool:
    """Multi-line text is what DRF renders as a text area: ModelSerializer gives a model
    TextField that style, and a declared CharField says `style={"base_template": TEXTAREA}`."""
    return field.style.get("base_template") == TEXTAREA


def _text_error(field: serializers.Field, value: Any) -> Any:
    """The message for a value holding a NUL anywhere (PostgreSQL stores none, in text or
    JSON), or for text with a control character its field refuses (portal.text)."""
    if contains_nul(value):
        return NUL_MESSAGE
    if isinstance(field, serializers.ListField):
        field, values = field.child, value if isinstance(value, list) else []
    else:
        values = [value]
    if not isinstance(field, serializers.CharField):
        return None
    multiline = is_multiline(field)
    for text in values:
        if isinstance(text, str):
            message = control_character_error(text, multiline=multiline)
            if message is not None:
                return message
    return None


class StrictSerializerMixin:
    """Input is taken as sent or refused with a 400 naming the field, never silently changed:
    an unknown field (a typo must not lose data), a read-only one (`status` on create), a NUL
    character in any value, or a control character in text (portal.text: none in one-line
    text, only line breaks and tabs in multi-line text)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            fields = self.fields  # type: ignore[attr-defined]
            errors: dict[str, list[Any]] = {}
            for name in sorted(data, key=str):
                field = fields.get(name)
                if field is None:
                    errors[name] = [_("Unknown field.")]
                elif field.read_only:
                    errors[name] = [_("This field is read-only.")]
                else:
                    message = _text_error(field, data[name])
                    if message is not None:
                        errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictSerializerMixin, serializers.Serializer):
    pass


TIMESTAMPS = ("created_at", "updated_at")


class TimestampsMixin:
    """Every resource shows when it was created and last changed (read-only), for sync."""

    Meta: Any

    def get_field_names(self, declared_fields: Any, info: Any) -> list[str]:
        names = list(
            super().get_field_names(  # type: ignore[misc]
                declared_fields, info
            )
        )
        model_fields = {field.name for field in self.Meta.model._meta.concrete_fields}
        return names + [name for name in TIMESTAMPS if name in model_fields and name not in names]

    def get_extra_kwargs(self) -> dict[str, Any]:
        extra = super().get_extra_kwargs()  # type: ignore[misc]
        for name in TIMESTAMPS:
            extra[name] = {**extra.get(name, {}), "read_only": True}
        return extra


class StrictModelSerializer(StrictSerializerMixin, TimestampsMixin, serializers.ModelSerializer):
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


def refuse_changes_of(serializer: serializers.ModelSerializer, attrs: dict, *names: str) -> None:
    instance = serializer.instance
    if instance is None:
        return
    for name in names:
        if name in attrs and attrs[name] != getattr(instance, name):
            raise serializers.ValidationError({name: [_("This field cannot be changed.")]})
