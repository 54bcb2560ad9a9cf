"""Transaction-scoped locks for per-world ordering (audit hash chain, event sequence)."""

from __future__ import annotations

import zlib

from django.db import connection


def lock_for_transaction(key: str) -> None:
    """Hold an exclusive lock on `key` until the current transaction ends.

    PostgreSQL takes an advisory transaction lock. SQLite needs none: the embedded default opens
    every transaction IMMEDIATE, which already serialises writers.
    """
    if connection.vendor != "postgresql":
        return
    lock_id = zlib.crc32(key.encode("utf-8"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7001, lock_id - 2**31])
