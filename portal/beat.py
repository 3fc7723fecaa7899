"""Celery beat's scheduler: exactly one beat schedules, and a heartbeat file for a healthcheck.

One leader. Several hosts may each start a beat (a deployment that scales by copying a host, or
a second beat started by mistake); only one of them sends the periodic jobs. Each beat tries to
hold a lock at every tick: with Redis (REDIS_URL, or a Redis broker) a key set only if absent,
with a time to live, renewed by its holder alone; with the embedded default (one machine) an
exclusive lock on a file of the var folder. A beat that does not hold it stands by and tries
again; when the leader dies its key expires (BEAT_LOCK_TTL_SECONDS) and a standby takes over.
The jobs themselves stay idempotent, so the one catch-up run of a new leader does no harm.

A beat process can be alive and stuck (a lost broker connection it waits on forever); the
container's healthcheck then needs proof that it still schedules. Every tick of this scheduler
(at least every beat_max_loop_interval) touches BEAT_HEARTBEAT_FILE, on a standby too (it is
alive and ready to lead); docker-compose.yml's beat healthcheck fails when the file is older than
a few minutes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import uuid
from pathlib import Path
from typing import IO, Any

from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger(__name__)


# Renew only if the key still holds this beat's id: a beat that paused past the time to live
# must not extend (or delete) the lock another beat took meanwhile.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class RedisLeadership:
    """The leader's lock as a Redis key holding its id, with a time to live."""

    def __init__(self, url: str, ttl: float, name: str = "beat:leader") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.ttl_ms = int(ttl * 1000)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._renew = self.client.register_script(_RENEW)
        # Deployments sharing one Redis keep apart by their cache key prefix.
        self.key = f"{settings.CACHE_KEY_PREFIX}:{name}"

    def hold(self) -> bool:
        import redis

        try:
            if self._renew(keys=[self.key], args=[self.holder, self.ttl_ms]):
                return True
            return bool(self.client.set(self.key, self.holder, nx=True, px=self.ttl_ms))
        except redis.RedisError as exc:  # no broker either: nothing could be sent anyway
            logger.warning("Beat lock not reachable (%s); standing by", exc)
            return False

    def release(self) -> None:
        import redis

        try:
            if self.client.get(self.key) == self.holder.encode():
                self.client.delete(self.key)
        except redis.RedisError:
            pass


class FileLeadership:
    """The leader's lock as an exclusive lock on a file (one machine: the embedded default)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[str] | None = None

    def hold(self) -> bool:
        if self.file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.file = handle
        return True

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing the file drops the lock
            self.file = None


def named_lock(name: str, ttl: float, path: Path) -> RedisLeadership | FileLeadership:
    """A lock one process holds at a time, the beat leader's way: a Redis key `name` living
    `ttl` seconds unless its holder renews it (`hold()` again), or with no Redis an exclusive
    lock on the file `path`. Other jobs that must run alone (the IMAP poller per mailbox) use
    it too."""
    url = settings.REDIS_URL or (
        settings.CELERY_BROKER_URL if settings.CELERY_BROKER_URL.startswith("redis") else ""
    )
    if url:
        return RedisLeadership(url, ttl, name)
    return FileLeadership(path)


def leadership() -> RedisLeadership | FileLeadership:
    return named_lock("beat:leader", settings.BEAT_LOCK_TTL_SECONDS, Path(settings.BEAT_LOCK_FILE))


class HeartbeatScheduler(PersistentScheduler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.leadership = leadership()
        self.leading: bool | None = None  # said in the log at the first tick and every change
        super().__init__(*args, **kwargs)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        # Renew well within the time to live, whatever the schedule's next job.
        renew_within = settings.BEAT_LOCK_TTL_SECONDS / 3
        leading = self.leadership.hold()
        if leading != self.leading:
            if leading:
                logger.info("Beat leads: this process sends the periodic jobs")
            else:
                logger.warning("Beat stands by: another beat sends the periodic jobs")
            self.leading = leading
        interval = super().tick(*args, **kwargs) if leading else renew_within
        try:
            Path(settings.BEAT_HEARTBEAT_FILE).touch()
        except OSError as exc:  # the healthcheck reports it; scheduling goes on
            logger.warning("Beat heartbeat file not written: %s", exc)
        return min(interval, renew_within)

    def close(self) -> None:
        super().close()
        self.leadership.release()
