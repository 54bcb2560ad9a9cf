"""The Gateway's hot reads: one round trip to the shared cache per request.

Token and role lookups are kept in each process's memory, and every copy is tagged with a
*generation*: a random value in the shared cache that every change replaces (revoking a token
replaces the auth generation; a membership change replaces the world's roles generation). A
request to a world route fetches, in one `MGET`, the generations its lookups depend on together
with whatever its view declares it will read (decide's envelope), so a local copy is used only
while its generation is still current. Nothing is stale after a change made through the services;
a change made elsewhere (a user edited in the admin) is bounded by the copy's lifetime.

When the shared cache cannot be reached, no generation is known and every lookup falls back to
the database: slower, never wrong.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

from worldservice.cache import cache_add, cache_get_many, cache_set

AUTH_GENERATION = "gen:auth"
PREFETCH_ATTRIBUTE = "_worldservice_prefetch"
QUEUED_RESULT = "__queued_result__"
MISSING = object()


def roles_generation_key(world_id: str) -> str:
    return f"gen:roles:{world_id}"


def new_generation(key: str) -> None:
    """Invalidate every process's copies that depend on `key` (now and again at commit)."""
    cache_set(key, uuid.uuid4().hex, None)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache_set(key, uuid.uuid4().hex, None))


def prefetch(
    request: Any,
    world_id: str | None,
    extra_keys: Sequence[str] = (),
    queued: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Fetch the generations (and `extra_keys`) for this request in one round trip.

    `queued`, when given, adds one more Redis command to the same pipeline (the activation
    read); its result is kept under `QUEUED_RESULT`. Without a Redis cache it is not run.
    """
    keys = [AUTH_GENERATION, *([roles_generation_key(world_id)] if world_id else []), *extra_keys]
    values = _pipelined(keys, queued) if queued is not None else None
    if values is None:
        values = cache_get_many(keys)
    for key in keys[: 2 if world_id else 1]:
        if key not in values:  # first use since a flush: start a generation for next time
            cache_add(key, uuid.uuid4().hex, None)
    setattr(request, PREFETCH_ATTRIBUTE, values)
    return values


def _pipelined(keys: list[str], queued: Callable[[Any], None]) -> dict[str, Any] | None:
    """`MGET` of cache keys plus one queued command, in one pipeline on the cache's client."""
    shared = caches["default"]  # the object itself: `cache` is only a proxy to it
    backend = getattr(shared, "_cache", None)
    if not isinstance(shared, RedisCache) or backend is None:
        return None
    try:
        pipe = backend.get_client(write=False).pipeline(transaction=False)
        pipe.mget([shared.make_and_validate_key(key) for key in keys])
        queued(pipe)
        found, extra = pipe.execute()
    except Exception:  # noqa: BLE001 - fall back to the plain lookups
        return None
    values = {
        key: backend._serializer.loads(raw)
        for key, raw in zip(keys, found, strict=True)
        if raw is not None
    }
    values[QUEUED_RESULT] = extra
    return values


def prefetched(request: Any) -> dict[str, Any] | None:
    """What `prefetch` fetched for this request (a requested key that is absent was not in the
    cache), or None when the request was not prefetched (e.g. session authentication)."""
    values: dict[str, Any] | None = getattr(request, PREFETCH_ATTRIBUTE, None)
    return values


class LocalCopies:
    """A bounded per-process map of values, each valid for one generation and a lifetime."""

    def __init__(self, max_entries: int = 50_000) -> None:
        self._entries: dict[Hashable, tuple[Any, Any, float]] = {}
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, key: Hashable, generation: Any) -> Any:
        if generation is None:
            return MISSING
        entry = self._entries.get(key)
        if entry is None or entry[0] != generation or entry[2] < time.monotonic():
            return MISSING
        return entry[1]

    def put(self, key: Hashable, generation: Any, value: Any, lifetime: float) -> None:
        if generation is None or lifetime <= 0:
            return
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()  # crude, but bounded; the shared cache stays warm
            self._entries[key] = (generation, value, time.monotonic() + lifetime)

    def discard(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
