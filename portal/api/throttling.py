"""API rate limits: one cache round trip a request, failing open when the cache is unreachable.

DRF's throttles keep each client's request history (a sliding window of times) in the cache
with a read and a write: two Redis round trips a request. With Redis the history is a Redis list
that one Lua script trims, counts and (when the request is allowed) extends — one round trip, the
same limits, the same `Retry-After` and `X-RateLimit-*` figures. Other caches (the file cache of
a development setup) keep DRF's read and write.

A Redis restart would otherwise turn every API request into a 500 while pages kept working; a
rate limit is a guard against abuse, not a reason to refuse service, so an unreachable cache lets
the request through and says so in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any, cast, overload

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from rest_framework import throttling
from rest_framework.request import Request

logger = logging.getLogger(__name__)

try:  # redis-py is installed with celery[redis]; the file cache raises OSError
    from redis.commands.core import Script
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover
    RedisError = OSError  # type: ignore[assignment,misc]

CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)

# KEYS[1]: the history (newest first). ARGV: now, the window in seconds, the limit.
# Drops the times that left the window; adds now if under the limit (and keeps the list for
# the window, as DRF's cache.set does). Returns {allowed 0/1, count, oldest time or false}.
SLIDING_WINDOW = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local oldest = redis.call('LINDEX', key, -1)
while oldest and tonumber(oldest) <= now - window do
  redis.call('RPOP', key)
  oldest = redis.call('LINDEX', key, -1)
end
local count = redis.call('LLEN', key)
if count >= limit then
  return {0, count, oldest}
end
redis.call('LPUSH', key, ARGV[1])
redis.call('EXPIRE', key, math.ceil(window))
return {1, count + 1, oldest or ARGV[1]}
"""
_script: Any = None


class Window(Sequence[float]):
    """A history as the script describes it — how many times and the oldest — read the way DRF
    (`wait()`) and `portal.api.sync.rate_limit_headers` read a history: its length and `[-1]`."""

    def __init__(self, size: int, oldest: float | None) -> None:
        self.size = size
        self.oldest = oldest

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[float]: ...
    def __getitem__(self, index: int | slice) -> Any:
        if index in (-1, self.size - 1) and self.size and self.oldest is not None:
            return self.oldest
        raise IndexError("the script reports only the oldest time")

    def __iter__(self) -> Iterator[float]:
        raise TypeError("the script reports only the count and the oldest time")


def redis_cache(cache: Any) -> RedisCache | None:
    backend = caches[DEFAULT_CACHE_ALIAS] if cache is default_cache else cache
    return backend if isinstance(backend, RedisCache) else None


def write_client(backend: RedisCache) -> Any:
    """The backend's Redis client for writes, made once: Django's cache builds a new client
    object (and its table of response callbacks) for every operation, a fifth of a
    millisecond a request. A client is safe to share (it takes a connection from the pool for
    each command) and the backend, like its pool, belongs to one thread."""
    cache_client = cast(Any, backend)._cache
    client = cache_client.__dict__.get("_portal_write_client")
    if client is None:
        client = cache_client.get_client(None, write=True)
        cache_client._portal_write_client = client
    return client


def history_key(backend: RedisCache, key: str) -> str:
    # Its own key: a plain cache value (DRF's pickled list) under the same name would make
    # the list commands fail.
    return backend.make_and_validate_key(f"{key}:window")


class _OneRoundTrip:
    """SimpleRateThrottle's `allow_request` in one Redis round trip (see the module)."""

    rate: str | None
    key: str | None
    history: Any
    now: float
    num_requests: int
    duration: int
    cache: Any

    def allow_request(self, request: Request, view: Any) -> bool:
        global _script
        if self.rate is None:
            return True
        backend = redis_cache(self.cache)
        if backend is None:
            return super().allow_request(request, view)  # type: ignore[misc]
        self.key = self.get_cache_key(request, view)  # type: ignore[attr-defined]
        if self.key is None:
            return True
        self.now = self.timer()  # type: ignore[attr-defined]
        client = write_client(backend)
        if _script is None:
            _script = Script(client, SLIDING_WINDOW)
        allowed, count, oldest = _script(
            keys=[history_key(backend, self.key)],
            args=[repr(self.now), self.duration, self.num_requests],
            client=client,
        )
        self.history = Window(int(count), None if oldest is None else float(oldest))
        return bool(allowed)

    def peek_history(self, key: str) -> list[float]:
        """The history without counting a request (portal.api.sync.peek_throttles)."""
        backend = redis_cache(self.cache)
        if backend is None:
            return list(self.cache.get(key, []))
        client = cast(Any, backend)._cache.get_client(key)
        return [float(value) for value in client.lrange(history_key(backend, key), 0, -1)]


class _FailOpen:
    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except CACHE_ERRORS as exc:
            logger.warning("API throttling skipped: the cache is unreachable (%s)", exc)
            return True


class AnonRateThrottle(_FailOpen, _OneRoundTrip, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_FailOpen, _OneRoundTrip, throttling.UserRateThrottle):
    pass
