"""Database statements that differ by vendor, chosen by `connection.vendor` here and nowhere else.

The portal runs on PostgreSQL in production and on SQLite as the embedded default (`make run` with
no DATABASE_URL). Where PostgreSQL has a faster statement, it is used there; every other database
gets a correct, portable path with the same result. The statements bypass tenant scoping
(they insert rows the caller built in its scope) and run through `raw_sql`, which says so.
"""

from __future__ import annotations

import select
from collections.abc import Iterable, Sequence
from datetime import UTC
from functools import cache
from typing import Any

from django.db import connection, connections
from django.db.models import Model

from portal.tenancy.scoping import raw_sql


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def insert_ignoring_conflicts(
    template: Model, varying: Sequence[str], rows: Sequence[dict[str, object]]
) -> int:
    """Insert one row per item of `rows`, skipping any that would break a unique constraint;
    return how many rows were new.

    Every row takes the values of `template` (an unsaved instance: its defaults and foreign
    keys) except the fields named in `varying`, whose values each row gives by attribute name.
    A row that exists already (or that a concurrent transaction inserted, whose commit this
    waits for) is left as it is.

    PostgreSQL: one `INSERT … SELECT … FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING`
    of a fixed text (parsed once, however many rows). Elsewhere: the same `INSERT … VALUES …
    ON CONFLICT DO NOTHING` executed for each row, counting the rows it changed.
    """
    if not rows:
        return 0
    model = type(template)
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    fixed = {
        f.attname: f.get_db_prep_save(f.pre_save(template, True), connection)
        for f in fields
        if f.name not in varying
    }
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    if is_postgresql():
        return _insert_unnest(fields, varying, fixed, rows, table, columns)
    placeholders = ", ".join(["%s"] * len(fields))
    with raw_sql("INSERT … ON CONFLICT DO NOTHING, one row per item") as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
            "ON CONFLICT DO NOTHING",
            [_row_params(fields, varying, fixed, row) for row in rows],
        )
        return max(cursor.rowcount, 0)


def _row_params(
    fields: Iterable, varying: Sequence[str], fixed: dict[str, object], row: dict[str, object]
) -> list[Any]:
    return [
        f.get_db_prep_save(row[f.attname], connection) if f.name in varying else fixed[f.attname]
        for f in fields
    ]


def _insert_unnest(
    fields: list,
    varying: Sequence[str],
    fixed: dict[str, object],
    rows: Sequence[dict[str, object]],
    table: str,
    columns: str,
) -> int:
    values: list[str] = []
    arrays: list[str] = []
    params: list[Any] = []
    array_params: list[Any] = []
    names: list[str] = []
    for f in fields:
        cast = f.db_type(connection)
        if f.name in varying:
            values.append(f"u.{f.column}")
            arrays.append(f"%s::{cast}[]")
            array_params.append([f.get_db_prep_save(row[f.attname], connection) for row in rows])
            names.append(f.column)
        else:
            values.append(f"%s::{cast}")
            params.append(fixed[f.attname])
    with raw_sql("INSERT … SELECT FROM unnest ON CONFLICT DO NOTHING: one statement") as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM unnest({', '.join(arrays)}) AS u({', '.join(names)}) "
            "ON CONFLICT DO NOTHING RETURNING 1",
            params + array_params,
        )
        return len(cursor.fetchall())


# --- Reading timestamps: psycopg's C loader instead of Django's Python one ----------------------


@cache
def _fast_timestamptz_loader() -> type | None:
    """A timestamptz loader that parses in psycopg's C extension, for connections whose time
    zone is UTC (Django sets the session's), giving exactly what Django's own loader gives.

    Django's loader (`psycopg_any.BaseTzLoader`) subclasses psycopg's pure-Python loader to set
    the connection's time zone on every value: a list of 50 cases reads ~300 timestamps, a
    millisecond of regular expressions a request. The C loader cannot be subclassed, so this
    one holds one per result and hands each value to it. None without the C extension."""
    try:
        from django.db.backends.postgresql.psycopg_any import (  # type: ignore[import-untyped]
            BaseTzLoader,
        )
        from psycopg import _cmodule
    except ImportError:  # psycopg 2, or no psycopg
        return None
    c_module = getattr(_cmodule, "_psycopg", None)
    if c_module is None:
        return None
    c_loader = c_module.TimestamptzLoader

    class UtcTimestamptzLoader(BaseTzLoader):
        timezone = UTC  # what Django's `create_cursor` compares with the connection's

        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._c = c_loader(oid, context)

        def load(self, data: Any) -> Any:
            value = self._c.load(data)
            return value if value.tzinfo is UTC else value.replace(tzinfo=UTC)

    return UtcTimestamptzLoader


def use_fast_timestamp_loader(sender: Any, connection: Any, **_kwargs: Any) -> None:
    """`connection_created`: a PostgreSQL connection Django keeps in UTC reads timestamps with
    the C loader (`_fast_timestamptz_loader`); any other keeps Django's."""
    if connection.vendor != "postgresql" or connection.timezone is not UTC:
        return
    loader = _fast_timestamptz_loader()
    adapters = getattr(connection.connection, "adapters", None)  # psycopg 3 only
    if loader is not None and adapters is not None:
        adapters.register_loader("timestamptz", loader)


# --- The per-request health check of a persistent connection, without a round trip ------------


def skip_health_checks_of_quiet_connections() -> None:
    """Mark this thread's persistent PostgreSQL connections as checked when nothing has arrived
    on their sockets since their last statement.

    With CONN_HEALTH_CHECKS Django checks a persistent connection before a request's first
    statement with a `SELECT 1`: a round trip to the server on every request, as long as an
    API read's own statement (issue 17). A connection the server ended while it sat idle
    (a restart, `pg_terminate_backend`, an idle timeout) has something to read — the server's
    farewell, then the end of the stream — so an idle connection with nothing to read is alive
    as far as that check could tell. Such a connection skips it; any other (something arrived,
    not idle, the socket unreadable) gets Django's `SELECT 1`, which replaces a dead one."""
    wrappers: Sequence[Any] = connections.all(initialized_only=True)  # health_check_*: untyped
    for conn in wrappers:
        raw = conn.connection
        if (
            raw is None
            or conn.health_check_done
            or not conn.health_check_enabled
            or conn.vendor != "postgresql"
        ):
            continue
        try:
            info = getattr(raw, "info", None)  # psycopg 3
            if raw.closed or info is None or info.transaction_status != _IDLE:
                continue
            poller = select.poll()
            poller.register(raw.fileno(), select.POLLIN | select.POLLPRI)
            quiet = not poller.poll(0)
        except (OSError, ValueError, AttributeError):
            continue
        if quiet:
            conn.health_check_done = True


try:
    from psycopg.pq import TransactionStatus

    _IDLE: Any = TransactionStatus.IDLE
except ImportError:  # psycopg 2: Django's check runs
    _IDLE = object()
