"""The cache the hot paths use, made to fail open: a cache outage costs speed, not answers.

Every cached value here (token lookups, roles, decide envelopes) can be recomputed from the
database, so when Redis is unreachable a read misses and a write is skipped, with a log line.
Entries expire on their own (seconds to a minute), which bounds how stale a value can be once a
delete was missed during an outage.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception as exc:  # noqa: BLE001 - any backend failure is a miss
        logger.warning("cache unavailable, reading %s from the database: %s", key, exc)
        return None


def cache_set(key: str, value: Any, timeout: float | None) -> None:
    try:
        cache.set(key, value, timeout)
    except Exception as exc:  # noqa: BLE001
        logger.warning("cache unavailable, not caching %s: %s", key, exc)


def cache_delete(key: str) -> None:
    try:
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001
        logger.warning("cache unavailable, could not drop %s (it expires on its own): %s", key, exc)


def cache_delete_many(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception as exc:  # noqa: BLE001
        logger.warning(
            "cache unavailable, could not drop %d keys (they expire): %s", len(keys), exc
        )


def cache_get_many(keys: list[str]) -> dict[str, Any]:
    try:
        values: dict[str, Any] = cache.get_many(keys)
    except Exception as exc:  # noqa: BLE001
        logger.warning("cache unavailable, reading %d keys from the database: %s", len(keys), exc)
        return {}
    return values


def cache_add(key: str, value: Any, timeout: float | None) -> None:
    try:
        cache.add(key, value, timeout)
    except Exception as exc:  # noqa: BLE001
        logger.warning("cache unavailable, not adding %s: %s", key, exc)
