"""Cursor pagination for every API list, strict like all API input; `KeysetCursorPagination`
for orderings over several fields.

A cursor is opaque to clients but not trusted: one that does not decode, or whose position
does not read as a value of the ordering field (`?cursor=cD1hYmM%3D` is `p=abc` on an id
ordering), is a 400 `validation_error` on `cursor`. DRF would answer 404 for the first and
pass the second to the database (a ValueError or a DataError: a 500).
"""

from __future__ import annotations

import json
from base64 import b64decode
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import reduce
from operator import or_
from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Model, Q, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.fields import IntegerField
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request

from portal.api import sync


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
    _keyset: KeysetCursorPagination | None = None

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        """`?ordering=updated_at` (or `-updated_at`) on a resource's list; else the class's."""
        chosen = sync.sync_ordering(request, view)
        if chosen is not None:
            return chosen
        return super().get_ordering(request, queryset, view)

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
        ordering = sync.sync_ordering(request, view)
        if ordering is None:
            self._keyset = None
            return super().paginate_queryset(queryset, request, view)
        # The sync order has many ties on its first field: the keyset cursor reads them all.
        self._keyset = KeysetCursorPagination()
        self._keyset.page_size = self.page_size
        self._keyset.max_page_size = self.max_page_size
        page = self._keyset.paginate_queryset(queryset, request, view)
        self.display_page_controls = self._keyset.display_page_controls
        return page

    def get_next_link(self) -> str | None:
        if self._keyset is not None:
            return self._keyset.get_next_link()
        return super().get_next_link()

    def get_previous_link(self) -> str | None:
        if self._keyset is not None:
            return self._keyset.get_previous_link()
        return super().get_previous_link()

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
        if sync.is_sync_list(view) and not any(p["name"] == sync.ORDERING for p in parameters):
            parameters.append(sync.ordering_parameter(list(sync.SYNC_ORDERINGS)))
        return parameters


class KeysetCursorPagination(PortalCursorPagination):
    """A cursor over every field of the ordering (which ends in a unique field), not only the
    first as DRF's: pages stay exact and cheap even when the first field has many ties
    (severity), so no offsets are needed."""

    def _get_position_from_instance(self, instance: Any, ordering: Sequence[str]) -> str:
        values = []
        row = instance if isinstance(instance, dict) else None  # a plain row (`.values()`)
        for field in ordering:
            name = field.lstrip("-")
            value = row[name] if row is not None else getattr(instance, name)
            values.append(value.isoformat() if isinstance(value, datetime) else str(value))
        return json.dumps(values)

    def clean_cursor(self, cursor: Cursor) -> Cursor:
        return cursor  # the position holds every field: `_position_filter` reads it

    def _position_filter(self, position: str, reverse: bool) -> Q:
        try:
            values = json.loads(position)
        except (ValueError, RecursionError) as exc:
            raise self.invalid_cursor() from exc
        if (
            not isinstance(values, list)
            or len(values) != len(self.ordering)
            or not all(isinstance(value, str) for value in values)
        ):
            raise self.invalid_cursor()
        clauses = []
        equal = Q()
        for field, raw in zip(self.ordering, values, strict=True):
            name = field.lstrip("-")
            value = self.clean_position(field, raw)
            lookup = "lt" if field.startswith("-") != reverse else "gt"
            clauses.append(equal & Q(**{f"{name}__{lookup}": value}))
            equal &= Q(**{name: value})
        return reduce(or_, clauses)

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any] | None:
        self.request = request
        self.model = queryset.model
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self.cursor = self.decode_cursor(request)
        reverse = bool(self.cursor and self.cursor.reverse)
        # DRF keeps the cursor's position as text; its stub says int.
        position: str | None = self.cursor.position if self.cursor else None  # type: ignore[assignment]
        ordering = [
            (field[1:] if field.startswith("-") else f"-{field}") if reverse else field
            for field in self.ordering
        ]
        queryset = queryset.order_by(*ordering)
        if position is not None:
            queryset = queryset.filter(self._position_filter(position, reverse))
        results = self._rows(queryset, self.page_size + 1)
        page = results[: self.page_size]
        has_following = len(results) > len(page)
        following = (
            self._get_position_from_instance(results[-1], self.ordering) if has_following else None
        )
        if reverse:
            page.reverse()
            self.has_next, self.has_previous = position is not None, has_following
            self.next_position, self.previous_position = position, following
        else:
            self.has_next, self.has_previous = has_following, position is not None
            self.next_position, self.previous_position = following, position
        self.page = page
        self.display_page_controls = self.has_next or self.has_previous
        return page

    def _rows(self, queryset: QuerySet, limit: int) -> list[Model]:
        return list(queryset[:limit])

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        position = (
            self._get_position_from_instance(self.page[-1], self.ordering)
            if self.page
            else self.next_position
        )
        return self.encode_cursor(self._cursor(position=position, reverse=False))

    def get_previous_link(self) -> str | None:
        if not self.has_previous:
            return None
        position = (
            self._get_position_from_instance(self.page[0], self.ordering)
            if self.page
            else self.previous_position
        )
        return self.encode_cursor(self._cursor(position=position, reverse=True))

    def _cursor(self, *, position: str | None, reverse: bool) -> Cursor:
        return Cursor(offset=0, reverse=reverse, position=position)  # type: ignore[arg-type]  # as above
