"""The activation store: one interface, two backends, chosen by settings.

`REDIS_URL` set → `RedisActivationStore`; unset (the embedded default) → `DatabaseActivationStore`.
"""

from __future__ import annotations

from django.conf import settings

from activation.store.base import (
    ABSENT,
    ActivationStore,
    EntryRead,
    EtagMismatch,
    HashState,
    SetState,
    StoreNotReady,
    WriteOutcome,
)

_stores: dict[str, ActivationStore] = {}


def get_store() -> ActivationStore:
    """The store for the current settings (one instance per process and backend)."""
    url = str(settings.REDIS_URL or "")
    store = _stores.get(url)
    if store is None:
        if url:
            from activation.store.redis import RedisActivationStore

            store = RedisActivationStore()
        else:
            from activation.store.database import DatabaseActivationStore

            store = DatabaseActivationStore()
        _stores[url] = store
    return store


__all__ = [
    "ABSENT",
    "ActivationStore",
    "EntryRead",
    "EtagMismatch",
    "HashState",
    "SetState",
    "StoreNotReady",
    "WriteOutcome",
    "get_store",
]
