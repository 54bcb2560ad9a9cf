"""The hot copy of each world's current DecisionEnvelope.

Decide is read thousands of times a second, so the envelope for "now" is cached. Every change to
one of its inputs (the world, its default policy, bindings, decisions, history) calls
`forget_decision`; the cached copy also expires on its own before time alone could change the
answer (data going stale) and at the latest after `DECIDE_CACHE_SECONDS`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from worldservice.cache import cache_delete, cache_get, cache_set

DECIDE_CACHE_SECONDS = 30


def decide_cache_key(world_id: str) -> str:
    return f"decide:{world_id}"


def cached_decision(world_id: str) -> dict[str, Any] | None:
    value: dict[str, Any] | None = cache_get(decide_cache_key(world_id))
    return value


def remember_decision(world_id: str, envelope: dict[str, Any], seconds: float) -> None:
    timeout = max(0.0, min(float(DECIDE_CACHE_SECONDS), seconds))
    if timeout >= 1:
        cache_set(decide_cache_key(world_id), envelope, timeout)


def forget_decision(world_id: str) -> None:
    """Drop the cached envelope now and again at commit (a reader may re-cache in between)."""
    key = decide_cache_key(world_id)
    cache_delete(key)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache_delete(key))
