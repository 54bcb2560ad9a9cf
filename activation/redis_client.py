"""One Redis client per process (and per URL), shared by the store, the locks and recovery."""

from __future__ import annotations

import threading

import redis
from django.conf import settings

from worldservice.redis_clients import new_client

_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def redis_configured() -> bool:
    """Redis is used for activation whenever `REDIS_URL` is set (else the database is)."""
    return bool(settings.REDIS_URL)


def get_redis() -> redis.Redis:
    """The shared client for `settings.REDIS_URL` (connection-pooled, fork-safe), with the
    timeouts and hang guard of `worldservice.redis_clients`."""
    url = str(settings.REDIS_URL)
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.get(url)
            if client is None:
                client = new_client(url, decode_responses=True, health_check_interval=30)
                _clients[url] = client
    return client
