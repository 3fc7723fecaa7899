"""API rate limits that fail open when the cache is unreachable.

DRF's throttles keep their request history in the cache (Redis in production). A Redis
restart would otherwise turn every API request into a 500 while pages kept working; a rate
limit is a guard against abuse, not a reason to refuse service, so an unreachable cache lets
the request through and says so in the log.
"""

from __future__ import annotations

import logging
from typing import Any

from rest_framework import throttling
from rest_framework.request import Request

logger = logging.getLogger(__name__)

try:  # redis-py is installed with celery[redis]; the file cache raises OSError
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = OSError  # type: ignore[assignment,misc]

CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)


class _FailOpen:
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except CACHE_ERRORS as exc:
            logger.warning("API throttling skipped: the cache is unreachable (%s)", exc)
            return True


class AnonRateThrottle(_FailOpen, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_FailOpen, throttling.UserRateThrottle):
    pass
