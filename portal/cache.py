"""Django's Redis cache, kept answering while Redis is away.

The cache holds login lockouts and rate limits, TOTP replay guards, the transparency report and the
task cluster's heartbeats. When Redis stops, every one of those calls would raise and turn pages into
errors; instead each process falls back to a small in-memory cache of its own until Redis answers
again (checked at most every RETRY_SECONDS). Lockouts and rate limits then count per process for the
outage, so they still hold, only less strictly across processes.
"""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 2.0
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class FallbackRedisCache(RedisCache):
    """RedisCache that uses this process's memory while Redis cannot be reached."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._fallback = LocMemCache(f"fallback-{server}", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
        self._down_since = None
        self._next_try = 0.0
        self._state = threading.Lock()

    def _call(self, name, *args, **kwargs):
        if self._down_since is not None and time.monotonic() < self._next_try:
            return getattr(self._fallback, name)(*args, **kwargs)
        try:
            result = getattr(super(), name)(*args, **kwargs)
        except UNREACHABLE as error:
            with self._state:
                if self._down_since is None:
                    self._down_since = time.monotonic()
                    logger.warning("Redis cache unreachable (%s); this process uses its own memory until it is back",
                                   type(error).__name__)
                self._next_try = time.monotonic() + RETRY_SECONDS
            return getattr(self._fallback, name)(*args, **kwargs)
        if self._down_since is not None:
            with self._state:
                if self._down_since is not None:
                    logger.warning("Redis cache reachable again after %.1f s", time.monotonic() - self._down_since)
                    self._down_since = None
        return result

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        self._fallback.clear()
        return self._call("clear")
