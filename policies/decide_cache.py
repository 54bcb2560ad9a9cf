"""The hot copy of each world's current DecisionEnvelope.

Decide is read thousands of times a second, so the envelope for "now" is cached. Every change to
one of its inputs (the world, its default policy, bindings, decisions, history) calls
`forget_decision` inside its transaction. The cached value carries the moment until which it is
fresh (the earlier of `DECIDE_CACHE_SECONDS` and the moment data goes stale), and readers check
it themselves, so a copy held anywhere (the shared cache, or a process's memory) never answers
past that moment.

A cached envelope must never outlive the change that made it wrong (a stale `live` would let
orders through), not even when Redis fails in the middle. With Redis, three keys per world:

- `decide:<id>`: the envelope;
- `decide-gen:<id>`: a counter every change moves on;
- `decide-hold:<id>`: present while a change may be in flight.

Before its transaction commits, a change moves the counter on, sets the hold (for
`HOLD_SECONDS`) and drops the envelope, all or nothing; when Redis cannot be told, the change is
refused (503 `dependency_unavailable`) instead of committing behind a cache that would go on
answering the old decision. After the commit it moves the counter on again, drops the envelope
and lifts the hold. A reader notes the counter before it reads the database and stores its
envelope only if the counter has not moved and no hold is set (one atomic script). So an
envelope computed from data older than a committed change is never stored: when the step after
the commit fails (Redis gone at that moment), the hold keeps readers from caching until it
expires, by which time every reader that could have read the old data has finished.

Without Redis (the embedded default, one process's memory) the envelope is simply dropped now
and again at commit.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import redis
from django.db import transaction
from django.utils import timezone

from worldservice.api.outages import REDIS, unavailable
from worldservice.cache import cache_delete, cache_get, cache_set
from worldservice.shared_cache import SharedRedis, shared_redis

logger = logging.getLogger(__name__)

DECIDE_CACHE_SECONDS = 30
DECIDE_PREFIX = "decide:"
GENERATION_PREFIX = "decide-gen:"
HOLD_PREFIX = "decide-hold:"
# Longer than any transaction and any decide computation (both bounded by the statement timeout
# and the web worker's timeout); only matters when the step after a commit failed.
HOLD_SECONDS = 60
NO_TOKEN = ""

# KEYS: envelope, hold, counter. ARGV: the counter the reader saw, the value, its lifetime.
STORE_IF_UNCHANGED = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)


def decide_cache_key(world_id: str) -> str:
    return f"{DECIDE_PREFIX}{world_id}"


def fresh_envelope(cached: Any) -> dict[str, Any] | None:
    """The envelope in a cached value, while it is still fresh; else None."""
    if not isinstance(cached, dict) or "fresh_until" not in cached:
        return None
    if cached["fresh_until"] <= timezone.now().timestamp():
        return None
    envelope: dict[str, Any] = cached["envelope"]
    return envelope


def cached_decision(world_id: str) -> dict[str, Any] | None:
    return fresh_envelope(cache_get(decide_cache_key(world_id)))


class _SharedKeys:
    """A client on the shared cache's Redis, its encoding, and a world's three keys there."""

    def __init__(self, shared: SharedRedis, world_id: str) -> None:
        self.client: Any = shared.client
        self.dumps = shared.dumps
        self.envelope = shared.key(decide_cache_key(world_id))
        self.generation = shared.key(f"{GENERATION_PREFIX}{world_id}")
        self.hold = shared.key(f"{HOLD_PREFIX}{world_id}")


def _shared_keys(world_id: str) -> _SharedKeys | None:
    shared = shared_redis()
    return _SharedKeys(shared, world_id) if shared is not None else None


def decision_token(world_id: str) -> str | None:
    """Note the world's change counter before reading decide's inputs (see the module doc).

    None means "do not cache what you compute" (Redis cannot be read right now).
    """
    keys = _shared_keys(world_id)
    if keys is None:
        return NO_TOKEN
    try:
        raw = keys.client.get(keys.generation)
    except REDIS_ERRORS as exc:
        logger.warning("cache unavailable, decide for %s will not be cached: %s", world_id, exc)
        return None
    return raw.decode() if isinstance(raw, bytes) else str(raw or "")


def remember_decision(
    world_id: str, envelope: dict[str, Any], seconds: float, token: str | None
) -> None:
    """Cache the envelope for at most `seconds`, unless a change began since `token`."""
    timeout = max(0.0, min(float(DECIDE_CACHE_SECONDS), seconds))
    if timeout < 1 or token is None:
        return
    value = {"envelope": envelope, "fresh_until": timezone.now().timestamp() + timeout}
    keys = _shared_keys(world_id)
    if keys is None:
        cache_set(decide_cache_key(world_id), value, math.ceil(timeout))
        return
    try:
        keys.client.eval(
            STORE_IF_UNCHANGED,
            3,
            keys.envelope,
            keys.hold,
            keys.generation,
            token,
            keys.dumps(value),
            math.ceil(timeout),
        )
    except REDIS_ERRORS as exc:
        logger.warning("cache unavailable, not caching decide for %s: %s", world_id, exc)


def forget_decision(world_id: str) -> None:
    """Drop the cached envelope for a change being made (call it inside the change's transaction).

    Raises `DependencyUnavailable` (503) when the shared cache cannot be told: the change must
    then not commit.
    """
    keys = _shared_keys(world_id)
    if keys is None:
        key = decide_cache_key(world_id)
        cache_delete(key)
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(lambda: cache_delete(key))
        return
    try:
        pipe = keys.client.pipeline(transaction=True)
        pipe.incr(keys.generation)
        pipe.set(keys.hold, 1, ex=HOLD_SECONDS)
        pipe.delete(keys.envelope)
        pipe.execute()
    except REDIS_ERRORS as exc:
        raise unavailable(REDIS, "the decision cache") from exc
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _settle(world_id))
    else:
        _settle(world_id)


def _settle(world_id: str) -> None:
    """After the commit: let readers cache the new decision (best effort: the hold expires)."""
    keys = _shared_keys(world_id)
    if keys is None:
        return
    try:
        pipe = keys.client.pipeline(transaction=True)
        pipe.incr(keys.generation)
        pipe.delete(keys.envelope, keys.hold)
        pipe.execute()
    except REDIS_ERRORS as exc:
        logger.warning(
            "cache unavailable after a change to %s: decide is not cached for up to %d s: %s",
            world_id,
            HOLD_SECONDS,
            exc,
        )
