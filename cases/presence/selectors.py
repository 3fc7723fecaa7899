"""Who is replying on a case: reads."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from cases.casework.models import Case
from cases.presence.services import presence_key, writers_key
from portal.accounts.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Writer:
    name: str
    internal: bool  # writing an internal note (shown to the staff only)


def writers_on(
    case: Case, *, viewer: User, staff: bool, now: datetime | None = None
) -> list[Writer]:
    """Who else wrote in the reply box of `case` within the last `PRESENCE_SECONDS`, by name;
    internal notes only when the viewer is `staff` (serves the case). No database query."""
    cutoff = (now or timezone.now()).timestamp() - settings.PRESENCE_SECONDS
    try:
        ids = [pk for pk in cache.get(writers_key(case.pk)) or () if pk != viewer.pk]
        entries = cache.get_many([presence_key(case.pk, pk) for pk in ids]) if ids else {}
    except Exception:
        logger.warning("presence: the cache is unreachable", exc_info=True)
        return []
    return sorted(
        Writer(name=entry["name"], internal=entry["internal"])
        for entry in entries.values()
        if entry["at"] > cutoff and (staff or not entry["internal"])
    )
