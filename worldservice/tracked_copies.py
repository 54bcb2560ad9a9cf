"""Copies of Redis keys in this process's memory, kept true by Redis itself.

The Gateway's hot reads (decide, the activation entry) would otherwise cost a Redis round trip
per request even when nothing has changed. Redis's server-assisted client-side caching
(`CLIENT TRACKING ON REDIRECT <itself> BCAST PREFIX ...`) removes it: a dedicated connection per
process, subscribed to `__redis__:invalidate`, receives a message for every change to a key under
the tracked prefixes (writes, deletes, expiry, eviction, FLUSHALL), and those messages are applied
before every lookup.

Why not redis-py's own client-side cache (`cache_config=CacheConfig()`, RESP3)? It refuses
servers older than Redis 7.4 (production and CI run 7.0), it caches single read commands only
(decide's `MGET` rides in a pipeline with the activation store's script, which it never caches),
and it has no hook for the hang guard below. The connection here speaks RESP2 and uses only
redis-py's public connection methods (`send_command`, `read_response`, `can_read`).

Rules that keep the copies honest:

- A copy is used only while the tracking connection is up. When it drops, every copy is thrown
  away and lookups miss (callers read Redis as before) until it is connected again.
- A fetched value is kept only if no invalidation arrived while it was being fetched (an
  epoch counter moves on every push), so a value read just before a change never outlives it.
- The connection is checked with a heartbeat (a PING whose answer must arrive before the
  next one is due), so a connection that died silently is noticed; every copy also has a
  short lifetime, a bound on the damage until then.
- As soon as any Redis call of this process times out (the hang guard of
  `worldservice.redis_clients` trips), the copies are dropped and the connection is closed:
  a Redis that does not answer may also not be sending its invalidations.

Redis sends a key's invalidation to the tracking connection before it answers the write that
caused it, so on one host a change is visible to every process by the time the writer's Redis
command returns. Across hosts the window is the network's delivery time.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import redis

from worldservice.redis_clients import GUARD, pool_options, server_of_url

logger = logging.getLogger(__name__)

Token = int
CLIENT_NAME = "worldservice-tracking"
INVALIDATIONS = "__redis__:invalidate"


class TrackedCopies:
    """Per-process copies of values read from Redis, dropped when Redis says they changed.

    A copy's *local key* can be anything hashable; `keep` names the Redis keys it was read
    from (by default the local key itself), and a push for any of them drops it.
    """

    def __init__(
        self,
        url: str,
        prefixes: Sequence[str],
        *,
        lifetime: float = 5.0,
        retry_after: float = 1.0,
        heartbeat: float = 15.0,
        max_entries: int = 100_000,
    ) -> None:
        self._url = url
        self._server = server_of_url(url)
        self._prefixes = tuple(prefixes)
        self._lifetime = lifetime
        self._retry_after = retry_after
        self._heartbeat = heartbeat
        self._max_entries = max_entries
        self._lock = threading.RLock()
        self._entries: dict[Hashable, tuple[Any, float]] = {}
        self._dependents: dict[str, set[Hashable]] = {}
        self._epoch = 0
        self._connection: Any = None  # a redis.Connection speaking RESP2
        self._readable: Any = None  # a poll of that connection's socket
        self._pid = 0
        self._retry_at = 0.0
        self._pinged_at = 0.0
        self._awaiting_pong = False
        self._said_off = False

    # -- reads -------------------------------------------------------------------------------

    def lookup(self, keys: Iterable[Hashable]) -> tuple[dict[Hashable, Any], Token | None]:
        """The copies held for `keys` (absent keys are not held) and a token for `keep`.

        The token is None when copies cannot be trusted right now; nothing is returned then.
        """
        with self._lock:
            if not self._current():
                return {}, None
            now = time.monotonic()
            found = {}
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None and entry[1] > now:
                    found[key] = entry[0]
            return found, self._epoch

    def keep(
        self,
        token: Token | None,
        values: Mapping[Hashable, Any],
        read_from: Mapping[Hashable, Sequence[str]] | None = None,
    ) -> None:
        """Hold values fetched after `lookup` gave `token`, unless something changed since.

        `read_from` names, per local key, the Redis keys the value was read from (default:
        the local key itself, which must then be a Redis key).
        """
        if token is None or not values:
            return
        with self._lock:
            if not self._current() or token != self._epoch:
                return
            if len(self._entries) + len(values) > self._max_entries:
                self._forget_all()
                return
            deadline = time.monotonic() + self._lifetime
            for key, value in values.items():
                self._entries[key] = (value, deadline)
                for source in read_from[key] if read_from else (str(key),):
                    self._dependents.setdefault(source, set()).add(key)

    def clear(self) -> None:
        with self._lock:
            self._forget_all()

    # -- the tracking connection ---------------------------------------------------------

    def _current(self) -> bool:
        """Connect if needed and apply every pending message; False when copies can't be used."""
        if self._pid != os.getpid():  # a forked child must not share its parent's socket
            self._connection, self._readable, self._pid = None, None, os.getpid()
            self._forget_all()
        connection = self._connection
        if connection is not None and GUARD.is_open(self._server):
            self._lost("Redis did not answer in time")
            return False
        if connection is None:
            connection = self._connect()
            if connection is None:
                return False
        try:
            self._drain(connection)
            self._beat(connection)
        except (redis.RedisError, OSError) as exc:
            self._lost(f"the tracking connection failed: {exc}")
            return False
        return True

    def _drain(self, connection: Any) -> None:
        """Apply the invalidation messages waiting on the socket; note a heartbeat's answer.

        Every lookup drains, so the common case, nothing waiting, must be cheap: a zero-timeout
        poll of the socket (about a microsecond) instead of redis-py's `can_read`, a
        non-blocking read that raises. The poll is enough because redis-py's buffer is empty
        after every full drain (`can_read` is false only then), and this connection is read
        nowhere else after it was opened; the first drain after opening is a full one.
        """
        if self._readable is not None and not self._readable.poll(0):
            return
        while connection.can_read(timeout=0):
            message = connection.read_response()
            if message[0] in (b"pong", "pong"):
                self._awaiting_pong = False
            elif message[0] in (b"message", "message"):
                self._on_invalidation(message[2])
        if self._readable is None:
            self._readable = select.poll()
            # redis-py offers no public handle on the socket; `_sock` is its connected socket.
            self._readable.register(connection._sock, select.POLLIN)

    def _beat(self, connection: Any) -> None:
        if time.monotonic() - self._pinged_at < self._heartbeat:
            return
        if self._awaiting_pong:
            raise redis.ConnectionError("no answer to the last heartbeat")
        connection.send_command("PING")
        self._pinged_at, self._awaiting_pong = time.monotonic(), True

    def _connect(self) -> redis.Connection | None:
        now = time.monotonic()
        if now < self._retry_at:
            return None
        connection: Any = None
        try:
            connection = self._open()
        except (redis.RedisError, OSError) as exc:
            if not self._said_off:  # once per outage, not once per retry
                logger.warning("local copies of Redis keys are off for now: %s", exc)
                self._said_off = True
            self._retry_at = now + self._retry_after
            return None
        self._forget_all()  # whatever changed while disconnected was never sent to us
        self._connection, self._readable = connection, None
        self._pinged_at, self._awaiting_pong = time.monotonic(), False
        if self._said_off:
            logger.warning("local copies of Redis keys are on again")
            self._said_off = False
        return connection

    def _open(self) -> Any:
        """A connection of its own (never returned to a pool) that receives invalidations."""
        options = pool_options(self._url)
        options.pop("max_connections")
        pool = redis.ConnectionPool.from_url(
            self._url,
            protocol=2,  # invalidations arrive as messages on a subscribed connection
            client_name=CLIENT_NAME,  # visible in CLIENT LIST, for operators
            socket_keepalive=True,
            **options,
        )
        connection = pool.make_connection()
        try:
            connection.connect()
            connection.send_command("CLIENT", "ID")
            own_id = connection.read_response()
            prefixes = [part for prefix in self._prefixes for part in ("PREFIX", prefix)]
            connection.send_command(
                "CLIENT", "TRACKING", "ON", "REDIRECT", own_id, "BCAST", *prefixes
            )
            if connection.read_response() not in (b"OK", "OK"):
                raise redis.RedisError("CLIENT TRACKING was refused")
            connection.send_command("SUBSCRIBE", INVALIDATIONS)
            connection.read_response()  # the subscription's confirmation
        except BaseException:
            connection.disconnect()
            raise
        return connection

    def _lost(self, reason: str) -> None:
        logger.warning("local copies of Redis keys dropped: %s", reason)
        self._said_off = True
        if self._connection is not None:
            self._connection.disconnect()
        self._connection, self._readable = None, None
        self._retry_at = time.monotonic() + self._retry_after
        self._forget_all()

    def _on_invalidation(self, keys: Sequence[Any] | None) -> None:
        self._epoch += 1
        if keys is None:  # FLUSHDB/FLUSHALL: everything
            self._forget_all()
            return
        for raw in keys:
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            for local in self._dependents.pop(key, ()):
                self._entries.pop(local, None)

    def _forget_all(self) -> None:
        self._epoch += 1
        self._entries.clear()
        self._dependents.clear()
