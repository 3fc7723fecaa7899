"""Who is replying on a case: writes.

A heartbeat lives in the cache (not the database: it is worth seconds and no audit) under a key
of the case and the writer, for `settings.PRESENCE_SECONDS`; a short list per case names whose
keys to read. A cache that does not answer loses the heartbeat, never the request.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from cases.casework.models import Case
from portal.accounts.models import User

logger = logging.getLogger(__name__)


def presence_key(case_id: int, user_id: int) -> str:
    return f"presence:case:{case_id}:user:{user_id}"


def writers_key(case_id: int) -> str:
    return f"presence:case:{case_id}:writers"


def presence_beat(*, acting_user: User, case: Case, internal: bool) -> None:
    """Record that `acting_user` is writing on `case` now (`internal`: an internal note, which
    only the staff who serve the case write; the caller checked the writer may reply)."""
    seconds = settings.PRESENCE_SECONDS
    entry = {
        "name": acting_user.get_short_name(),
        "internal": internal,
        "at": timezone.now().timestamp(),
    }
    try:
        cache.set(presence_key(case.pk, acting_user.pk), entry, seconds)
        writers = set(cache.get(writers_key(case.pk)) or ())
        # Read and written without a lock: a beat lost to a concurrent one returns 10 s later.
        writers.add(acting_user.pk)
        cache.set(writers_key(case.pk), sorted(writers), seconds)
    except Exception:
        logger.warning("presence: the cache is unreachable", exc_info=True)


def presence_end(*, acting_user: User, case: Case) -> None:
    """`acting_user` left the reply box or sent the reply."""
    try:
        cache.delete(presence_key(case.pk, acting_user.pk))
    except Exception:
        logger.warning("presence: the cache is unreachable", exc_info=True)
