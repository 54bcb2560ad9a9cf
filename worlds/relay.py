"""The outbox relay: copy recorded events, in order, from `WorldEvent` to the Redis Stream.

One call of `relay_batch` is one database transaction:

1. take the relay lock (`pg_try_advisory_xact_lock`); when another relay holds it, do nothing;
2. claim the oldest unrelayed rows by id with `SELECT ... FOR UPDATE SKIP LOCKED`;
3. `XADD` them, in id order, in one `MULTI`/`EXEC` pipeline;
4. set their `relayed_at`, remember the last stream entry id, and commit.

Before claiming, the relay checks that the stream still holds the last entry it wrote; when
Redis lost it (a restart without persistence), it writes a `stream_reset` marker and re-publishes
the recent events first (`worlds.stream_continuity`, docs/events.md).

If Redis fails, the exception rolls the transaction back and the rows stay pending for the next
call; if the commit fails after `EXEC`, the next call publishes them again. Delivery is therefore
at least once, and consumers drop repeats by the CloudEvent `id` (the event's `idempotency_key`).

Ordering. `record_events` serialises the writers of one world on a per-world lock, so a world's
events commit in `seq` order with ids in that order, and a relay that sees `seq` N also sees every
earlier `seq`. The relay lock makes one relay active at a time (others return 0 at once), so no
second relay can publish a world's `seq` N+1 while the first still holds N. Only the lock holder
ever locks outbox rows, so `SKIP LOCKED` never skips one: it only keeps a claim from waiting.
On SQLite (the embedded default) there is no Redis and the relay is a no-op; were one configured,
SQLite's IMMEDIATE transactions already serialise relays.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from worlds.models import WorldEvent
from worlds.stream_continuity import (
    STREAM_FIELD,
    encode_event,
    remember_last_entry,
    republish_after_loss,
    stream_went_back,
)
from worldservice.metrics import audit_backlog_depth, event_relay_lag_seconds
from worldservice.redis_clients import new_client

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 500
# The two-key advisory lock namespace of the relay (worldservice.locks uses 7001).
RELAY_LOCK_CLASS = 7002
RELAY_LOCK_ID = 1


@lru_cache(maxsize=4)
def _stream_client(url: str) -> redis.Redis:
    """One client (and connection pool) per Redis URL for the life of the process, with the
    service's Redis timeouts: a hung Redis fails a batch (rolled back, retried) within one."""
    return new_client(url, health_check_interval=30)


def stream_name() -> str:
    return str(settings.WORLDSERVICE["EVENT_STREAM"])


def relay_enabled() -> bool:
    """Without Redis (the embedded default) there is no stream: events are only recorded."""
    return bool(settings.REDIS_URL)


def pending_count() -> int:
    """Recorded events not yet relayed; also refreshes the `audit_backlog_depth` gauge."""
    count = WorldEvent.objects.filter(relayed_at__isnull=True).count()
    audit_backlog_depth.set(count)
    return count


def _take_relay_lock() -> bool:
    """Hold the single-relay lock until the transaction ends; False when another relay has it."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", [RELAY_LOCK_CLASS, RELAY_LOCK_ID]
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _claim(limit: int) -> list[WorldEvent]:
    rows = WorldEvent.objects.filter(relayed_at__isnull=True).order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return list(rows[:limit])


def _publish(client: redis.Redis, events: Sequence[WorldEvent]) -> None:
    """XADD every event, in order, as one MULTI/EXEC: Redis applies all of them or none."""
    pipeline = client.pipeline(transaction=True)
    stream = stream_name()
    for event in events:
        pipeline.xadd(stream, {STREAM_FIELD: encode_event(event)})
    remember_last_entry(stream, pipeline.execute())


def relay_batch(*, limit: int = DEFAULT_BATCH) -> int:
    """Publish up to `limit` pending events, oldest first; the number published.

    Returns 0 when there is nothing to do, no Redis is configured, or another relay is active.
    Redis errors (`redis.RedisError`) propagate after the transaction rolled back, so the
    events stay pending. Call it outside any transaction of a change: it publishes before its
    own transaction commits.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if not relay_enabled():
        return 0
    client = _stream_client(str(settings.REDIS_URL))
    with transaction.atomic():
        if not _take_relay_lock():
            return 0
        if stream_went_back(client, stream_name()):
            republish_after_loss(client, stream_name(), timezone.now())
        events = _claim(limit)
        if not events:
            audit_backlog_depth.set(0)
            return 0
        _publish(client, events)
        published_at = timezone.now()
        WorldEvent.objects.filter(pk__in=[event.pk for event in events]).update(
            relayed_at=published_at
        )
    lag = max((published_at - event.created_at).total_seconds() for event in events)
    event_relay_lag_seconds.set(max(lag, 0.0))
    if len(events) == limit:
        pending_count()
    else:
        audit_backlog_depth.set(0)
    logger.debug("relayed %d events to %s", len(events), stream_name())
    return len(events)


def relay_pending(*, limit: int = DEFAULT_BATCH) -> int:
    """Relay batches until none is full: everything pending when called. The number published."""
    total = 0
    while True:
        published = relay_batch(limit=limit)
        total += published
        if published < limit:
            return total
