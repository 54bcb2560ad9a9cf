"""The Gateway's hot reads: no round trip in the steady state, at most one otherwise.

Token and role lookups are kept in each process's memory, and every copy is tagged with a
*generation*: a random value in the shared cache that every change replaces (revoking a token
replaces the auth generation; a membership change replaces the world's roles generation). A
request to a world route fetches, in one `MGET`, the generations its lookups depend on together
with whatever its view declares it will read (decide's envelope), so a local copy is used only
while its generation is still current. Nothing is stale after a change made through the services;
a change made elsewhere (a user edited in the admin) is bounded by the copy's lifetime.

The values fetched here (the generations, decide's envelope, the activation entry) are
themselves held in this process as tracked copies (`worldservice.tracked_copies`): Redis
pushes an invalidation whenever one changes, so in the steady state a request makes no round
trip at all. When the tracking connection is down, each request fetches in one round trip.

When the shared cache cannot be reached, no generation is known and every lookup falls back to
the database: slower, never wrong.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.db import transaction

from worldservice.cache import cache_add, cache_get_many, cache_set
from worldservice.shared_cache import cache_location, shared_redis
from worldservice.tracked_copies import TrackedCopies

AUTH_GENERATION = "gen:auth"
GENERATION_PREFIX = "gen:"
PREFETCH_ATTRIBUTE = "_worldservice_prefetch"
QUEUED_RESULT = "__queued_result__"
MISSING = object()


_tracked_cache_prefixes: list[str] = [GENERATION_PREFIX]
_tracked_redis_prefixes: list[str] = []
_copies_by_server: dict[str, TrackedCopies] = {}


def track_prefix(prefix: str, *, cache_key: bool) -> None:
    """Let values under `prefix` be held as tracked copies (call from `AppConfig.ready`).

    `cache_key=True`: a Django cache key prefix; otherwise a raw Redis key prefix on the same
    server (the activation store's keys).
    """
    target = _tracked_cache_prefixes if cache_key else _tracked_redis_prefixes
    if prefix not in target:
        target.append(prefix)


def tracked_copies() -> TrackedCopies | None:
    """This process's tracked copies of the shared cache's keys; None without a Redis cache."""
    server = cache_location()
    if server is None:
        return None
    copies = _copies_by_server.get(server)
    if copies is None:
        prefixes = [caches["default"].make_key(p) for p in _tracked_cache_prefixes]
        copies = _copies_by_server.setdefault(
            server, TrackedCopies(server, [*prefixes, *_tracked_redis_prefixes])
        )
    return copies


def roles_generation_key(world_id: str) -> str:
    return f"gen:roles:{world_id}"


def new_generation(key: str) -> None:
    """Invalidate every process's copies that depend on `key` (now and again at commit)."""
    cache_set(key, uuid.uuid4().hex, None)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: cache_set(key, uuid.uuid4().hex, None))


@dataclass(frozen=True, slots=True)
class StoreRead:
    """A read of another Redis structure that rides in the prefetch (the activation entry).

    `queue` adds the command to a pipeline and `decode` turns its reply into the value the
    view reads; `copy_key` and `redis_keys` let that value be held in this process's memory
    until Redis reports a change to any of `redis_keys`, so it is decoded once per change, not
    once per request. The value is shared by every request while held: never change it.
    """

    copy_key: Hashable
    redis_keys: tuple[str, ...]
    queue: Callable[[Any], None]
    decode: Callable[[Any], Any]


def prefetch(
    request: Any,
    world_id: str | None,
    extra_keys: Sequence[str] = (),
    store_read: StoreRead | None = None,
) -> dict[str, Any]:
    """Fetch the generations (and `extra_keys`, and `store_read`) for this request.

    In the steady state every value is a tracked copy in this process and no round trip is
    made; otherwise one round trip fetches them all. The store read's result is kept under
    `QUEUED_RESULT`; without a Redis cache it is not run.
    """
    generations = [AUTH_GENERATION, *([roles_generation_key(world_id)] if world_id else [])]
    keys = [*generations, *extra_keys]
    values = _held(keys, store_read)
    for key in generations:
        if key not in values:  # first use since a flush: start a generation for next time
            cache_add(key, uuid.uuid4().hex, None)
    setattr(request, PREFETCH_ATTRIBUTE, values)
    return values


def _held(keys: list[str], store_read: StoreRead | None) -> dict[str, Any]:
    """The values from this process's tracked copies when all are held, else fetched."""
    copies = tracked_copies()
    wanted: list[Hashable] = [*keys, *([store_read.copy_key] if store_read else [])]
    held, token = copies.lookup(wanted) if copies is not None else ({}, None)
    if len(held) < len(wanted):
        values = _fetch(keys, store_read)
        if copies is not None:
            _keep(copies, token, values, store_read)
        return values
    values = {key: held[key] for key in keys}
    if store_read is not None:
        values[QUEUED_RESULT] = held[store_read.copy_key]
    return values


def _fetch(keys: list[str], store_read: StoreRead | None) -> dict[str, Any]:
    values = _pipelined(keys, store_read) if store_read is not None else None
    return values if values is not None else cache_get_many(keys)


def _pipelined(keys: list[str], store_read: StoreRead) -> dict[str, Any] | None:
    """`MGET` of cache keys plus the store read, in one pipeline on the cache's server."""
    shared = shared_redis()
    if shared is None:
        return None
    try:
        pipe = shared.client.pipeline(transaction=False)
        pipe.mget([shared.key(key) for key in keys])
        store_read.queue(pipe)
        found, extra = pipe.execute()
    except Exception:  # noqa: BLE001 - fall back to the plain lookups
        return None
    values = {
        key: shared.loads(raw) for key, raw in zip(keys, found, strict=True) if raw is not None
    }
    values[QUEUED_RESULT] = store_read.decode(extra)
    return values


def _keep(
    copies: TrackedCopies, token: int | None, values: dict[str, Any], read: StoreRead | None
) -> None:
    shared = caches["default"]
    kept: dict[Hashable, Any] = {
        key: value for key, value in values.items() if key != QUEUED_RESULT
    }
    read_from: dict[Hashable, Sequence[str]] = {key: (shared.make_key(key),) for key in kept}
    if read is not None and QUEUED_RESULT in values:
        kept[read.copy_key] = values[QUEUED_RESULT]
        read_from[read.copy_key] = read.redis_keys
    copies.keep(token, kept, read_from)


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
