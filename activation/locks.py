"""Cross-process mutexes for recovery and lazy expiry (Redis locks; no-ops without Redis).

Without Redis every activation write already serialises on database row locks, so the embedded
default needs no extra mutex.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.exceptions import LockError

from activation.redis_client import get_redis, redis_configured


def rebuild_lock_name(world_id: str) -> str:
    return f"world:{world_id}:active:rebuild"


def expiry_lock_name(world_id: str) -> str:
    return f"world:{world_id}:active:expiring"


@contextmanager
def world_mutex(name: str, *, timeout: float, wait: float = 0.0) -> Iterator[bool]:
    """Hold the Redis lock `name` (auto-released after `timeout` s); yields whether it was taken.

    `wait` is how long to wait for it (0: do not wait).
    """
    if not redis_configured():
        yield True
        return
    lock = get_redis().lock(name, timeout=timeout, sleep=0.01)
    try:
        acquired = lock.acquire(blocking=wait > 0, blocking_timeout=wait if wait > 0 else None)
    except (redis.ConnectionError, redis.TimeoutError):
        acquired = False
    try:
        yield acquired
    finally:
        if acquired:
            # Expired meanwhile, or Redis went away: the timeout frees it.
            with contextlib.suppress(LockError, redis.ConnectionError, redis.TimeoutError):
                lock.release()


def mutex_held(name: str) -> bool:
    """Whether someone holds the lock `name` right now."""
    if not redis_configured():
        return False
    return bool(get_redis().exists(name))
