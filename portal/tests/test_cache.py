"""portal.cache.FallbackRedisCache against a real redis-server that is killed and started again."""

import time

import pytest
from django.core.cache.backends.base import DEFAULT_TIMEOUT

from portal import cache as portal_cache
from portal.tests.faults import redis_server_fixture  # noqa: F401  (fixture)


@pytest.fixture
def redis_cache(redis_server, monkeypatch):
    monkeypatch.setattr(portal_cache, "RETRY_SECONDS", 0.3)
    return portal_cache.FallbackRedisCache(redis_server.url, {
        "TIMEOUT": DEFAULT_TIMEOUT, "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}})


def test_with_redis_away_the_cache_answers_from_memory_and_returns_to_redis_when_it_is_back(
        redis_server, redis_cache, caplog):
    redis_cache.set("kept-in-redis", 1)
    assert redis_cache.get("kept-in-redis") == 1

    redis_server.stop()
    started = time.monotonic()
    assert redis_cache.get("kept-in-redis") is None  # Redis's copy is out of reach, not an error
    redis_cache.set("failures", 1)
    assert redis_cache.incr("failures") == 2  # a lockout still counts, in this process
    assert redis_cache.add("once", "first") and not redis_cache.add("once", "second")
    assert redis_cache.get_many(["failures", "once"]) == {"failures": 2, "once": "first"}
    assert time.monotonic() - started < 2  # a refused connection is noticed at once
    assert "Redis cache unreachable" in caplog.text

    redis_server.start()  # empty: it kept nothing on disk
    time.sleep(0.4)  # the next call tries Redis again

    assert redis_cache.get("failures") is None  # answered by Redis again
    redis_cache.set("after", "yes")
    assert redis_cache.get("after") == "yes"
    assert "Redis cache reachable again" in caplog.text
