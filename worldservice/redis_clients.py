"""Every Redis connection WorldService opens: bounded timeouts and a per-server hang guard.

A paused or unreachable Redis must cost a request at most about one timeout. Two things stand in
the way with redis-py's defaults: a client built with `Redis.from_url` retries a timed-out
command three times with back-off (one call then takes four timeouts and more), and a request
makes several Redis calls (prefetch, cache, store), each of which would wait its own timeout.

So every connection here

- has connect and read timeouts (`WORLDSERVICE_REDIS_CONNECT_TIMEOUT_MS`, `..._TIMEOUT_MS`);
- retries once, and only on a connection error (a pooled socket that a Redis restart closed
  fails at once and the retry reconnects), never on a timeout;
- consults this process's *hang guard* for its server: after a timeout, every call to that
  server fails at once (`redis.ConnectionError`) for `WORLDSERVICE_REDIS_RETRY_AFTER_MS`; the
  first call after that window tries again. A refused connection is fast by itself and does not
  trip the guard.

The guard is per process (and per `host:port`), so the cache, the activation store, the
tracked copies, the relay and `/readyz` all learn of a hang from the first one to meet it.
See docs/operations.md#timeouts.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

_SENTINEL: Any = object()


class HangGuard:
    """Remembers, per Redis server, until when calls should fail without waiting."""

    def __init__(self) -> None:
        self._open_until: dict[str, float] = {}
        self._reasons: dict[str, str] = {}
        self._lock = threading.Lock()

    def is_open(self, server: str) -> bool:
        until = self._open_until.get(server)
        return until is not None and time.monotonic() < until

    def check(self, server: str) -> None:
        """Raise `redis.ConnectionError` while the server's guard is open."""
        if self.is_open(server):
            raise redis.ConnectionError(
                f"Redis at {server} did not answer in time recently "
                f"({self._reasons.get(server, 'timeout')}); not waiting on it again yet"
            )

    def trip(self, server: str, reason: str) -> None:
        from django.conf import settings

        window = float(settings.WORLDSERVICE["REDIS_RETRY_AFTER_SECONDS"])
        with self._lock:
            self._open_until[server] = time.monotonic() + window
            self._reasons[server] = reason

    def reset(self, server: str | None = None) -> None:
        with self._lock:
            if server is None:
                self._open_until.clear()
            else:
                self._open_until.pop(server, None)


GUARD = HangGuard()


def server_of_url(url: str) -> str:
    """The guard's name for the server a Redis URL points at (`host:port`)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


class GuardedConnectionMixin:
    """Fail fast while the guard is open; trip it when the server does not answer in time."""

    host: str
    port: int

    @property
    def guard_server(self) -> str:
        return f"{self.host}:{self.port}"

    def connect_check_health(self, *args: Any, **kwargs: Any) -> Any:
        GUARD.check(self.guard_server)
        try:
            return super().connect_check_health(*args, **kwargs)  # type: ignore[misc]
        except redis.TimeoutError as exc:
            GUARD.trip(self.guard_server, str(exc))
            raise

    def send_packed_command(self, *args: Any, **kwargs: Any) -> Any:
        GUARD.check(self.guard_server)
        try:
            return super().send_packed_command(*args, **kwargs)  # type: ignore[misc]
        except redis.TimeoutError as exc:
            GUARD.trip(self.guard_server, str(exc))
            raise

    def read_response(self, *args: Any, timeout: Any = _SENTINEL, **kwargs: Any) -> Any:
        if timeout is not _SENTINEL:  # a poll with its own timeout: a timeout is an answer
            return super().read_response(*args, timeout=timeout, **kwargs)  # type: ignore[misc]
        try:
            return super().read_response(*args, **kwargs)  # type: ignore[misc]
        except redis.TimeoutError as exc:
            GUARD.trip(self.guard_server, str(exc))
            raise


class GuardedConnection(GuardedConnectionMixin, redis.Connection):
    pass


class GuardedSSLConnection(GuardedConnectionMixin, redis.SSLConnection):
    pass


def _settings_value(name: str) -> Any:
    from django.conf import settings

    return settings.WORLDSERVICE[name]


def pool_options(url: str) -> dict[str, Any]:
    """Connection-pool keyword arguments for `url` (for `ConnectionPool.from_url`)."""
    options: dict[str, Any] = {
        "socket_connect_timeout": float(_settings_value("REDIS_CONNECT_TIMEOUT_SECONDS")),
        "socket_timeout": float(_settings_value("REDIS_TIMEOUT_SECONDS")),
        "max_connections": int(_settings_value("REDIS_MAX_CONNECTIONS")),
        "retry": Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
    }
    scheme = urlsplit(url).scheme
    if scheme == "rediss":
        options["connection_class"] = GuardedSSLConnection
    elif scheme != "unix":
        options["connection_class"] = GuardedConnection
    return options


def new_client(url: str, **extra: Any) -> redis.Redis:
    """A client for `url` with WorldService's timeouts, retry rule and hang guard."""
    pool = redis.ConnectionPool.from_url(url, **{**pool_options(url), **extra})
    return redis.Redis(connection_pool=pool)


def guard_open(url: str) -> bool:
    """Whether calls to `url`'s server currently fail fast (it timed out recently)."""
    return GUARD.is_open(server_of_url(url))
