"""Tracked copies: values held in memory only while Redis can tell us they changed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from worldservice.tracked_copies import CLIENT_NAME, TrackedCopies


@pytest.fixture
def prefix() -> str:
    return f"tc-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
def other() -> Iterator[redis.Redis]:
    """Another client, standing in for another process writing to Redis."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


@pytest.fixture
def copies(prefix: str) -> TrackedCopies:
    return TrackedCopies(settings.REDIS_URL, [prefix], retry_after=0.2)


def _hold(copies: TrackedCopies, key: str, value: object) -> None:
    _, token = copies.lookup([key])
    assert token is not None
    copies.keep(token, {key: value})


def test_kept_value__served_until_redis_reports_a_change(copies, prefix, other):
    key = f"{prefix}a"
    _hold(copies, key, "v1")
    assert copies.lookup([key])[0] == {key: "v1"}

    other.set(key, "v2")

    assert copies.lookup([key])[0] == {}


def test_change_while_fetching__value_not_kept(copies, prefix, other):
    key = f"{prefix}a"
    _, token = copies.lookup([key])

    other.set(f"{prefix}b", "x")  # any push in between voids what was fetched before it
    copies.keep(token, {key: "read before the change"})

    assert copies.lookup([key])[0] == {}


def test_untracked_prefix__writes_do_not_disturb(copies, prefix, other):
    key = f"{prefix}a"
    _hold(copies, key, "v1")

    other.set(f"elsewhere-{uuid.uuid4().hex}", "x")

    assert copies.lookup([key])[0] == {key: "v1"}


def test_local_key__dropped_when_any_key_it_was_read_from_changes(copies, prefix, other):
    _, token = copies.lookup([("entry", 1)])
    copies.keep(token, {("entry", 1): "e"}, {("entry", 1): [f"{prefix}set", f"{prefix}ver"]})
    assert copies.lookup([("entry", 1)])[0] == {("entry", 1): "e"}

    other.incr(f"{prefix}ver")

    assert copies.lookup([("entry", 1)])[0] == {}


def test_flush__everything_dropped(copies, prefix, other):
    _hold(copies, f"{prefix}a", 1)

    other.flushdb()

    assert copies.lookup([f"{prefix}a"])[0] == {}


def test_redis_key_expires__copy_dropped(copies, prefix, other):
    key = f"{prefix}a"
    other.set(key, "v", px=100)
    _hold(copies, key, "v")

    deadline = time.monotonic() + 3
    while copies.lookup([key])[0] and time.monotonic() < deadline:
        time.sleep(0.05)

    assert copies.lookup([key])[0] == {}


def test_lifetime__bounds_every_copy(prefix):
    copies = TrackedCopies(settings.REDIS_URL, [prefix], lifetime=0.1)
    _hold(copies, f"{prefix}a", 1)

    time.sleep(0.15)

    assert copies.lookup([f"{prefix}a"])[0] == {}


def test_tracking_connection_killed__nothing_trusted_until_reconnected(copies, prefix, other):
    key = f"{prefix}a"
    _hold(copies, key, "v1")
    # Only this worker's (its own database): other xdist workers share the Redis server.
    own_db = other.connection_pool.connection_kwargs.get("db", 0)
    ids = [
        c["id"]
        for c in other.client_list()
        if c["name"] == CLIENT_NAME and int(c["db"]) == int(own_db)
    ]
    assert ids
    for client_id in ids:
        other.client_kill_filter(_id=client_id)

    found, token = copies.lookup([key])
    assert (found, token) == ({}, None)

    time.sleep(0.25)  # retry_after
    found, token = copies.lookup([key])
    assert found == {} and token is not None  # connected again, with nothing carried over


def test_redis_unreachable__no_copies_and_no_error(prefix):
    copies = TrackedCopies("redis://127.0.0.1:1/0", [prefix])

    assert copies.lookup([f"{prefix}a"]) == ({}, None)
    copies.keep(None, {f"{prefix}a": 1})
    assert copies.lookup([f"{prefix}a"]) == ({}, None)


def test_too_many_entries__all_dropped_rather_than_grow(prefix):
    copies = TrackedCopies(settings.REDIS_URL, [prefix], max_entries=2)
    _hold(copies, f"{prefix}a", 1)
    _hold(copies, f"{prefix}b", 2)

    _hold(copies, f"{prefix}c", 3)

    assert copies.lookup([f"{prefix}a", f"{prefix}b", f"{prefix}c"])[0] == {}


def test_forked_child__starts_empty(copies, prefix, monkeypatch):
    import os

    _hold(copies, f"{prefix}a", 1)
    real_pid = os.getpid()
    monkeypatch.setattr(os, "getpid", lambda: real_pid + 1)

    assert copies.lookup([f"{prefix}a"])[0] == {}


def test_heartbeat_unanswered__connection_given_up(prefix, other):
    copies = TrackedCopies(settings.REDIS_URL, [prefix], heartbeat=0.1, retry_after=5)
    _hold(copies, f"{prefix}a", 1)
    time.sleep(0.12)
    assert copies.lookup([f"{prefix}a"])[1] is not None  # sends the heartbeat

    other.execute_command("CLIENT", "PAUSE", 500, "ALL")  # Redis answers nobody for a while
    time.sleep(0.12)
    copies.lookup([f"{prefix}a"])  # reads the answer to the first beat, sends another
    time.sleep(0.12)

    assert copies.lookup([f"{prefix}a"]) == ({}, None)


def test_heartbeat_answered__connection_kept(prefix):
    copies = TrackedCopies(settings.REDIS_URL, [prefix], heartbeat=0.05)
    _hold(copies, f"{prefix}a", 1)
    for _ in range(4):
        time.sleep(0.06)
        assert copies.lookup([f"{prefix}a"])[1] is not None
