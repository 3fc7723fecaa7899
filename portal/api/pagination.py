"""Cursor pagination for every API list, strict like all API input.

A cursor is opaque to clients but not trusted: one that does not decode, or whose position
does not read as a value of the ordering field (`?cursor=cD1hYmM%3D` is `p=abc` on an id
ordering), is a 400 `validation_error` on `cursor`. DRF would answer 404 for the first and
pass the second to the database (a ValueError or a DataError: a 500).
"""

from __future__ import annotations

from base64 import b64decode
from datetime import UTC, datetime
from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.fields import IntegerField
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


def _field(model: type[models.Model], path: str) -> models.Field:
    """The model field an ordering names (`-received_at`, `engagement__name`, `engagement_id`)."""
    parts = path.lstrip("-").split("__")
    for part in parts[:-1]:
        model = cast("type[models.Model]", model._meta.get_field(part).related_model)
    try:
        return cast("models.Field", model._meta.get_field(parts[-1]))
    except FieldDoesNotExist:
        if parts[-1] == "pk":
            return model._meta.pk
        raise


class PortalCursorPagination(CursorPagination):
    """Cursor pagination: stable under inserts, constant cost at any depth."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering: str | tuple[str, ...] = "-id"
    model: type[models.Model] | None = None

    def get_page_size(self, request: Request) -> int:
        """Strict like all API input: a `page_size` that is not a positive whole number is a 400
        (DRF would silently use the default); one above the maximum is capped."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = IntegerField(min_value=1).run_validation(raw)
        except ValidationError as exc:
            raise ValidationError({self.page_size_query_param: exc.detail}) from exc
        return min(size, self.max_page_size)

    def paginate_queryset(
        self, queryset: models.QuerySet, request: Request, view: Any = None
    ) -> list[Any] | None:
        self.model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def invalid_cursor(self) -> ValidationError:
        return ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF's decoding, but strict base64 (DRF skips what is not base64, so most garbage
        reads as an empty cursor: the first page) and a 400 instead of DRF's 404."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            if not b64decode(encoded.encode("ascii"), validate=True):
                raise ValueError(encoded)
            cursor = super().decode_cursor(request)
        except (ValueError, NotFound) as exc:
            raise self.invalid_cursor() from exc
        return None if cursor is None else self.clean_cursor(cursor)

    def clean_cursor(self, cursor: Cursor) -> Cursor:
        """DRF's cursor holds the position of the ordering's first field: it must read as one."""
        if cursor.position is None:
            return cursor
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        value = self.clean_position(ordering, cursor.position)
        position = value.isoformat() if hasattr(value, "isoformat") else str(value)
        # DRF keeps the position as text (its stub says int).
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=position)  # type: ignore[arg-type]

    def clean_position(self, ordering: str, raw: Any) -> Any:
        """A cursor's position value as the ordering field's Python value, or a 400: what
        would fail in the database (a NUL, an integer out of range, a time-zone offset
        PostgreSQL refuses) fails here."""
        assert self.model is not None
        field = _field(self.model, ordering)
        if not isinstance(raw, str) or "\x00" in raw:
            raise self.invalid_cursor()
        try:
            value = field.to_python(raw)
            if value is None:
                raise ValueError(raw)
            if isinstance(value, datetime):
                value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
                value = value.astimezone(UTC)
            field.run_validators(value)
            field.get_prep_value(value)
        except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
            raise self.invalid_cursor() from exc
        return value

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Number of results to return per page (at most {self.max_page_size})."
                )
        return parameters
