"""Recording events in the transactional outbox, and their CloudEvents form.

An event is written in the same transaction as the change it reports; the relay (see
`worlds.relay`) later copies it to the Redis Stream. Nothing is published directly, so a
rolled-back change never leaks an event and a Redis outage never loses one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from worlds.models import WorldEvent
from worldservice.canonical import json_safe
from worldservice.clock import rfc3339
from worldservice.context import current_correlation_id
from worldservice.locks import lock_for_transaction

EVENT_TYPES = frozenset(
    {"activation_updated", "policy_updated", "world_updated", "rebalancing_planned"}
)
EVENT_SOURCE = "worldservice"


def record_event(*, world_id: str, type: str, data: Mapping[str, Any]) -> WorldEvent:
    """Store one event for `world_id` with the next per-world `seq`."""
    return record_events(world_id=world_id, type=type, items=[data])[0]


def record_events(
    *, world_id: str, type: str, items: Sequence[Mapping[str, Any]]
) -> list[WorldEvent]:
    """Store events for `world_id` with consecutive `seq`s, in one insert (apply writes many)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change")
    lock_for_transaction(f"events:{world_id}")
    last = WorldEvent.objects.filter(world_id=world_id).aggregate(last=Max("seq"))["last"] or 0
    now = timezone.now()
    correlation_id = current_correlation_id()
    events = []
    for offset, data in enumerate(items, start=1):
        seq = last + offset
        idempotency_key = f"{world_id}:{seq}"
        payload = json_safe(
            {**data, "world_id": world_id, "seq": seq, "idempotency_key": idempotency_key}
        )
        events.append(
            WorldEvent(
                world_id=world_id,
                seq=seq,
                type=type,
                data=payload,
                correlation_id=correlation_id,
                idempotency_key=idempotency_key,
                created_at=now,
            )
        )
    if len(events) > BULK_SQL_THRESHOLD and connection.vendor == "postgresql":
        _insert_expanded_by_postgresql(events)
        return events
    return WorldEvent.objects.bulk_create(events)


# Above this many rows one JSON parameter expanded by PostgreSQL beats Django's bulk insert,
# which encodes every value of every row as a parameter (a 1,000-strategy apply writes
# thousands of events).
BULK_SQL_THRESHOLD = 50
_COLUMNS = ("world_id", "seq", "type", "data", "correlation_id", "idempotency_key", "created_at")


def _insert_expanded_by_postgresql(events: Sequence[WorldEvent]) -> None:
    rows = [
        {
            "world_id": e.world_id,
            "seq": e.seq,
            "type": e.type,
            "data": e.data,
            "correlation_id": e.correlation_id,
            "idempotency_key": e.idempotency_key,
            "created_at": e.created_at.isoformat(),
        }
        for e in events
    ]
    table = WorldEvent._meta.db_table
    columns = ", ".join(_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 - fixed names
            "FROM jsonb_to_recordset(%s::jsonb) AS r(world_id text, seq bigint, type text, "
            "data jsonb, correlation_id text, idempotency_key text, created_at timestamptz)",
            [json.dumps(rows, ensure_ascii=False, allow_nan=False)],
        )


def as_cloudevent(event: WorldEvent) -> dict[str, Any]:
    """The CloudEvents 1.0 JSON object carried in the stream entry's `event` field."""
    return {
        "specversion": "1.0",
        "id": event.idempotency_key,
        "source": EVENT_SOURCE,
        "type": event.type,
        "subject": event.world_id,
        "time": rfc3339(event.created_at),
        "datacontenttype": "application/json",
        "correlation_id": event.correlation_id,
        "data": event.data,
    }
