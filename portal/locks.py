"""Row locks in one global order, and transactions retried once after a lock conflict.

Two transactions that lock the same rows in opposite orders deadlock: PostgreSQL aborts one of
them with `DeadlockDetected`. So a transaction that locks more than one row of a table locks
them in one statement ordered by primary key (`lock_rows`, `lock_users`), never one by one in
an order the data decides (an engagement's manager, then its deputy). Across tables the order
is: the object worked on (a case, an engagement, ...) first, then the people it concerns.

Should PostgreSQL still abort a transaction for a deadlock or a serialization failure, the
operation is retried once (`atomic_retried`, when it is the outermost transaction); what is
left over answers 503 "try again" (portal.dbfaults), never a 500.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

from django.db import OperationalError, models, transaction

from portal.tenancy.scoping import unscoped

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


M = TypeVar("M", bound=models.Model)


def locked_again(instance: M, *related: str) -> M:
    """`instance` read again under a lock of its own row (FOR UPDATE OF it alone), with the
    `related` rows joined: what a service changes it from. Read through the model's scoped
    manager, so an object outside the caller's scope is not found."""
    model = type(instance)
    return (
        model._default_manager.select_for_update(of=("self",))
        .select_related(*related)
        .get(pk=instance.pk)
    )


def lock_rows(model: type[models.Model], pks: Iterable[Any]) -> list[models.Model]:
    """Lock the rows with these primary keys (FOR NO KEY UPDATE, ORDER BY id) and return them.

    NO KEY: rows of other tables may still be inserted referencing them meanwhile (their
    foreign-key check takes only a key-share lock), only other lockers wait. On SQLite, whose
    transactions take the write lock up front, this is a plain read."""
    ids = sorted({pk for pk in pks if pk is not None})
    if not ids:
        return []
    return list(
        unscoped(model, "rows are locked by key; the caller read them in its scope")
        .select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
    )


def lock_users(users: Iterable[Any]) -> list[Any]:
    """Lock a set of user rows, always in id order (see the module doc)."""
    from portal.accounts.models import User

    return lock_rows(User, [user.pk for user in users if user is not None])


def is_lock_conflict(error: BaseException) -> bool:
    """Whether PostgreSQL aborted the transaction for a deadlock or a serialization failure
    (both mean: the same transaction run again may well succeed)."""
    try:
        from psycopg import errors
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    cause = error.__cause__ if isinstance(error, OperationalError) else error
    return isinstance(cause, errors.DeadlockDetected | errors.SerializationFailure)


def atomic_retried(func: Callable[P, R]) -> Callable[P, R]:
    """`transaction.atomic`, run once more when the database aborted it for a deadlock or a
    serialization failure. Only the outermost transaction is retried: inside an outer block the
    whole outer transaction is lost, so the error goes up to whoever opened it."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except OperationalError as error:
            if not is_lock_conflict(error):
                raise
            logger.warning("%s aborted by a lock conflict; retrying once: %s", func.__name__, error)
        with transaction.atomic():
            return func(*args, **kwargs)

    return wrapper
