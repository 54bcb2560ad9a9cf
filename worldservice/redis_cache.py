"""Django's Redis cache backend with WorldService's timeouts, pool size and hang guard.

The connection pool options come from `worldservice.redis_clients` (explicit `OPTIONS` in
`CACHES` win). They are filled in when the backend is built, not in the settings module,
because they read `settings.WORLDSERVICE`.

An earlier version also kept one `redis.Redis` object per pool through private members of
Django's client (the stock backend builds one per call, about 64 µs). The hot reads no longer
touch the cache in the steady state (their values are tracked copies), so that saving is left
out: see docs/performance.md, "One implementation per hot read".
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache

from worldservice.redis_clients import pool_options


class PooledRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        servers = server.split(",") if isinstance(server, str) else list(server)
        options = {**pool_options(str(servers[0])), **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
