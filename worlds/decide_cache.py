"""The hot copy of each world's current DecisionEnvelope.

Decide is read thousands of times a second, so the envelope for "now" is cached. Every change to
one of its inputs (the world, its default policy, bindings, decisions, history) calls
`forget_decision`. The cached value carries the moment until which it is fresh (the earlier of
`DECIDE_CACHE_SECONDS` and the moment data goes stale), and readers check it themselves, so a
copy held anywhere (the shared cache, or a process's memory) never answers past that moment.
"""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.utils import timezone

from worldservice.cache import cache_delete, cache_get, cache_set

DECIDE_CACHE_SECONDS = 30
DECIDE_PREFIX = "decide:"


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


def remember_decision(world_id: str, envelope: dict[str, Any], seconds: float) -> None:
    timeout = max(0.0, min(float(DECIDE_CACHE_SECONDS), seconds))
    if timeout >= 1:
        fresh_until = timezone.now().timestamp() + timeout
        value = {"envelope": envelope, "fresh_until": fresh_until}
        cache_set(decide_cache_key(world_id), value, math.ceil(timeout))


def forget_decision(world_id: str) -> None:
    """Drop the cached envelope now and again at commit (a reader may re-cache in between)."""
    key = decide_cache_key(world_id)
    cache_delete(key)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache_delete(key))
