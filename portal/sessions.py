"""The session store (`SESSION_ENGINE`): Django's database sessions, read by a statement
compiled once per process.

Every signed-in page reads its session first; Django's store compiles the same `get()` for it
on every request (about half a millisecond of Python, issue 17). This store runs that
statement, compiled once, with the request's key and time: the same table, rows and expiry
rule. Writes, expiry and clearing are Django's own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from portal.tenancy.scoping import raw_sql

# database alias -> the read's SQL and whether its first parameter is the key (else the time)
_statements: dict[str, tuple[str, bool]] = {}
_KEY_STAND_IN = "session-key-stand-in"
_TIME_STAND_IN = datetime(2000, 1, 1, tzinfo=UTC)


def _statement(store: DatabaseSessionStore, using: str) -> tuple[str, bool] | None:
    """The compiled read, or None when its parameters are not just the key and the time (then
    Django's own read runs)."""
    compiled = _statements.get(using)
    if compiled is None:
        query = (
            store.model.objects.using(using)
            .filter(session_key=_KEY_STAND_IN, expire_date__gt=_TIME_STAND_IN)
            .values_list("session_data")
            .order_by()
        )
        sql, params = query.query.sql_with_params()
        time = connections[using].ops.adapt_datetimefield_value(_TIME_STAND_IN)
        if list(params) not in ([_KEY_STAND_IN, time], [time, _KEY_STAND_IN]):
            return None
        compiled = _statements[using] = (sql, params[0] == _KEY_STAND_IN)
    return compiled


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if not key:
            self._session_key = None
            return None
        using = router.db_for_read(self.model)
        compiled = _statement(self, using)
        if compiled is None:
            return super()._get_session_from_db()  # type: ignore[misc]  # not in the stubs
        sql, key_first = compiled
        now = connections[using].ops.adapt_datetimefield_value(timezone.now())
        with raw_sql("a session is read by its key before any scope is open", using=using) as c:
            c.execute(sql, [key, now] if key_first else [now, key])
            row = c.fetchone()
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=key, session_data=row[0])
