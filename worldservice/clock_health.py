"""How far this host's clock is from the database's and Redis's (docs/operations.md#clocks).

Decide, override expiry, apply leases and activation write deadlines compare times taken on
different hosts, so every host must keep NTP time. This module measures the offset of the
local clock against PostgreSQL's `clock_timestamp()` and Redis's `TIME`, each as the remote time
minus the midpoint of the local times around the call (the round trip bounds the error).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection

# Past this offset, against either reference, the host's clock is unhealthy: activation write
# deadlines need the hosts to agree well within WORLDSERVICE_REDIS_TIMEOUT_MS (1 s by default).
SERVER_SKEW_LIMIT_SECONDS = 0.5
# The most a client's clock (a Gateway's `processed_at`) may be ahead of the service's, or
# behind the event it acknowledges (docs/activation.md#gateway-convergence).
MAX_CLIENT_SKEW_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ClockOffset:
    reference: str
    offset_seconds: float
    round_trip_seconds: float

    @property
    def within_limit(self) -> bool:
        return abs(self.offset_seconds) <= SERVER_SKEW_LIMIT_SECONDS + self.round_trip_seconds / 2


def _measure(reference: str, remote_seconds: Callable[[], float]) -> ClockOffset:
    before = time.time()
    remote = remote_seconds()
    after = time.time()
    return ClockOffset(reference, remote - (before + after) / 2, after - before)


def _database_seconds() -> float:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT extract(epoch FROM clock_timestamp())::float8")
        else:  # SQLite (the embedded default) reads this host's clock: offset 0 by design
            cursor.execute("SELECT (julianday('now') - 2440587.5) * 86400.0")
        row = cursor.fetchone()
    return float(row[0])


def database_offset() -> ClockOffset:
    return _measure("database", _database_seconds)


def redis_offset(client: Any) -> ClockOffset:
    def redis_seconds() -> float:
        seconds, microseconds = client.time()
        return float(seconds) + float(microseconds) / 1_000_000

    return _measure("redis", redis_seconds)
