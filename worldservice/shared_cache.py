"""The shared cache's Redis, for the few operations Django's cache API does not offer.

The hot reads fetch several cache keys and the activation store's read in one pipeline, and
decide's envelope is stored with a compare-and-set script (`policies/decide_cache.py`). Both
need a Redis client on the cache's server and the cache's own encoding of values. Both come from
public APIs: the client is built from the cache's `LOCATION` in settings (with WorldService's
timeouts and hang guard, `worldservice.redis_clients`), keys from `make_and_validate_key`, and
values are encoded with Django's `RedisSerializer`, as the cache backend encodes them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisSerializer
from django.core.signals import setting_changed
from django.dispatch import receiver

from worldservice.redis_clients import new_client

_clients: dict[str, redis.Redis] = {}
SERIALIZER = RedisSerializer()


@dataclass(frozen=True, slots=True)
class SharedRedis:
    """The shared cache, a client on its (first) server, and its encoding of values."""

    cache: RedisCache
    client: redis.Redis
    location: str

    def key(self, key: str) -> str:
        return self.cache.make_and_validate_key(key)

    def dumps(self, value: Any) -> Any:
        return SERIALIZER.dumps(value)

    def loads(self, raw: Any) -> Any:
        return SERIALIZER.loads(raw)


@functools.cache
def cache_location() -> str | None:
    """The URL of the shared cache's first server, or None when the cache is not Redis.

    Read on every hot read, and looking the cache up costs more than the read itself: kept
    until the settings change (tests).
    """
    if not isinstance(caches["default"], RedisCache):
        return None
    location = settings.CACHES["default"]["LOCATION"]
    servers = location.split(",") if isinstance(location, str) else list(location)
    return str(servers[0])


@receiver(setting_changed)
def _forget_location(setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        cache_location.cache_clear()


def shared_redis() -> SharedRedis | None:
    """The shared cache's Redis; None when the cache is not Redis (tests, embedded use)."""
    location = cache_location()
    if location is None:
        return None
    client = _clients.get(location)
    if client is None:
        client = _clients.setdefault(location, new_client(location))
    shared: Any = caches["default"]
    return SharedRedis(cache=shared, client=client, location=location)
