"""Django's Redis cache backend, keeping one client per connection pool.

The stock backend builds a new `redis.Redis` object on every call (about 64 µs with redis-py 8),
which the hot read paths pay several times a request. Clients are thread-safe and share the
pool, so one per pool is enough. Its pools get WorldService's timeouts, pool size and hang guard
(`worldservice.redis_clients`); explicit `OPTIONS` in `CACHES` win.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from worldservice.redis_clients import pool_options


class PooledClientRedisCacheClient(RedisCacheClient):
    # Private members of Django's client that its type stubs do not declare.
    _client: Any
    _get_connection_pool: Any
    _get_connection_pool_index: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(
                connection_pool=self._get_connection_pool(write)
            )
        return client


class PooledRedisCache(RedisCache):
    # Set by Django's RedisCache; its type stubs do not declare them.
    _servers: list[str]
    _options: dict[str, Any]

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledClientRedisCacheClient
        self._options = {**pool_options(self._servers[0]), **self._options}
