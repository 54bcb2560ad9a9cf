"""A paused Redis (SIGSTOP) costs one timeout, then calls fail at once; a write queued behind
the pause never lands when Redis resumes. On a private redis-server (tests/faults/dependencies)."""

from __future__ import annotations

import time

import pytest

from activation.store.redis import RedisActivationStore
from tests.faults.dependencies import PrivateRedis
from worlds.hot_reads import tracked_copies
from worldservice.api.errors import DependencyUnavailable
from worldservice.redis_clients import GUARD, guard_open, new_client, server_of_url

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

KEY = ("s1", "long")
ENTRY = {"active": True, "weight": 1.0, "freeze": False, "drain": False}


def _timed(call):
    started = time.monotonic()
    try:
        call()
    except DependencyUnavailable as exc:
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def test_redis_paused__one_timeout_then_fast__queued_write_never_lands(processes, settings):
    server = PrivateRedis(processes)
    server.start()
    url = server.url(0)
    store = RedisActivationStore(new_client(url, decode_responses=True))
    store.initialize("w")
    before = store.apply_changes("w", {KEY: ENTRY}).version
    timeout = settings.WORLDSERVICE["REDIS_TIMEOUT_SECONDS"]

    server.pause()
    try:
        first, refused = _timed(lambda: store.apply_changes("w", {KEY: {**ENTRY, "weight": 0.5}}))
        second, also_refused = _timed(lambda: store.get("w", *KEY))
        assert guard_open(url)
    finally:
        server.resume()

    assert refused is not None and refused.code == "dependency_unavailable"
    assert also_refused is not None
    assert timeout * 0.9 <= first <= timeout + 1.0  # the write waited its timeout, once
    # The guard answered without waiting a timeout; half of one leaves room for a loaded CI host.
    assert second < timeout / 2
    time.sleep(settings.WORLDSERVICE["REDIS_RETRY_AFTER_SECONDS"] + 0.1)
    after = store.get("w", *KEY)  # the guard lets the call through again
    assert not guard_open(url)
    # Redis ran the queued write when it resumed, past its deadline: it changed nothing.
    assert after.version == before
    assert after.entry is not None and after.entry["weight"] == 1.0
    GUARD.reset(server_of_url(url))


def test_redis_paused__guard_trips__tracked_copies_dropped(processes, settings):
    server = PrivateRedis(processes)
    server.start()
    url = server.url(0)
    settings.CACHES = {
        "default": {"BACKEND": "worldservice.redis_cache.PooledRedisCache", "LOCATION": url}
    }
    copies = tracked_copies()
    assert copies is not None
    held, token = copies.lookup(["gen:x"])
    assert token is not None
    copies.keep(token, {"gen:x": "v1"})
    assert copies.lookup(["gen:x"])[0] == {"gen:x": "v1"}

    server.pause()
    try:
        client = new_client(url)
        with pytest.raises(Exception, match="Timeout"):
            client.get("anything")
        assert copies.lookup(["gen:x"]) == ({}, None)  # dropped: Redis may miss invalidations
    finally:
        server.resume()
        GUARD.reset(server_of_url(url))
