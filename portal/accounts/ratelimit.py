"""allauth's rate limits (sign-in, password reset, ...) fail open when the cache is unreachable.

allauth keeps its rate-limit history in the cache (Redis in production) and lets a cache error
escape, so a Redis outage turned every sign-in and password reset into a 500. A rate limit guards
against abuse; it is no reason to lock everybody out, so, as the API throttle does
(portal.api.throttling), an unreachable cache lets the request through and says so in the log.
Passwords are still checked: only the counting is skipped.

allauth reads the cache through the module attribute `allauth.core.internal.ratelimit.cache`;
`install()` (AccountsConfig.ready) puts a wrapper there. After a failure the wrapper does not
ask the cache again for CACHE_OUTAGE_RETRY_SECONDS, so a Redis that drops packets costs one
socket timeout per window instead of one per cache call.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache as django_cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.signals import setting_changed
from django.dispatch import receiver

from portal.api.throttling import CACHE_ERRORS

logger = logging.getLogger(__name__)

CACHE_OUTAGE_RETRY_SECONDS = 5.0


class FailOpenCache:
    """The cache as allauth's rate limits see it: on a cache error, `add` succeeds (the lock
    is "taken"), `get` answers the default (no history), `set` and `delete` do nothing."""

    down_until = 0.0

    def _call(self, name: str, fallback: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < FailOpenCache.down_until:
            return fallback
        try:
            return getattr(django_cache, name)(*args, **kwargs)
        except CACHE_ERRORS as exc:
            FailOpenCache.down_until = time.monotonic() + CACHE_OUTAGE_RETRY_SECONDS
            logger.warning(
                "Sign-in rate limits skipped for %ss: the cache is unreachable (%s)",
                CACHE_OUTAGE_RETRY_SECONDS,
                exc,
            )
            return fallback

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, **kwargs: Any) -> bool:
        return self._call("add", True, key, value, timeout, **kwargs)

    def get(self, key: str, default: Any = None, **kwargs: Any) -> Any:
        return self._call("get", default, key, default, **kwargs)

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, **kwargs: Any) -> None:
        self._call("set", None, key, value, timeout, **kwargs)

    def delete(self, key: str, **kwargs: Any) -> bool:
        return self._call("delete", False, key, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(django_cache, name)


@receiver(setting_changed)
def _cache_replaced(*, setting: str, **kwargs: Any) -> None:
    """A new cache (tests override CACHES) is asked again at once."""
    if setting == "CACHES":
        FailOpenCache.down_until = 0.0


def install() -> None:
    from allauth.core.internal import ratelimit

    if not isinstance(ratelimit.cache, FailOpenCache):
        ratelimit.cache = FailOpenCache()
