"""Noticing that the Redis Stream lost entries the relay had written, and repairing it.

Redis run without persistence forgets the stream when it restarts; one restored from an old
snapshot goes back in time. Either way the stream no longer holds the last entry the relay wrote,
whose id the relay keeps in PostgreSQL (`RelayCursor`). When that happens the relay,
before publishing anything new:

1. writes a `stream_reset` marker, so a consumer knows entries may be missing and resyncs each
   world through `GET /worlds/{id}/events?after=<last applied seq>`;
2. re-publishes, in id order, the relayed events recorded within the window
   (`WORLDSERVICE_STREAM_REPUBLISH_WINDOW_SECONDS`), so a consumer that was only briefly behind
   catches up from the stream alone.

The rules a consumer follows are in docs/events.md, "After Redis lost the stream".
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta

import redis
from django.conf import settings

from worlds.events import EVENT_SOURCE, as_cloudevent
from worlds.models import RelayCursor, WorldEvent
from worldservice.clock import rfc3339

logger = logging.getLogger("worlds.relay")

STREAM_FIELD = "event"
STREAM_RESET_TYPE = "stream_reset"
REPUBLISH_CHUNK = 500


def encode_event(event: WorldEvent) -> str:
    """The stream entry's `event` field: the CloudEvents JSON object, compact UTF-8."""
    return json.dumps(as_cloudevent(event), ensure_ascii=False, separators=(",", ":"))


def stream_went_back(client: redis.Redis, stream: str) -> bool:
    """True when the stream no longer holds the last entry the relay recorded writing.

    Asking for that exact entry, rather than comparing ids, also catches a repair that failed
    half way: its new entries have later ids, but the recorded one is still missing. Operators
    trim the old end of the stream, never the newest entry, so trimming is not mistaken for loss.
    """
    cursor = RelayCursor.objects.filter(stream=stream).first()
    if cursor is None:
        return False
    last = cursor.last_entry_id
    return not client.xrange(stream, min=last, max=last, count=1)


def remember_last_entry(stream: str, entry_ids: Sequence[bytes | str]) -> None:
    """Record the newest entry id written; called in the relay's transaction."""
    if not entry_ids:
        return
    last = entry_ids[-1]
    last_id = last.decode() if isinstance(last, bytes) else str(last)
    RelayCursor.objects.update_or_create(stream=stream, defaults={"last_entry_id": last_id})


def stream_reset_marker(*, since: datetime, count: int, now: datetime) -> str:
    """The `stream_reset` CloudEvent: not a world event, so it has no subject and no `seq`."""
    marker = {
        "specversion": "1.0",
        "id": f"{STREAM_RESET_TYPE}:{uuid.uuid4().hex}",
        "source": EVENT_SOURCE,
        "type": STREAM_RESET_TYPE,
        "time": rfc3339(now),
        "datacontenttype": "application/json",
        "data": {"republished_since": rfc3339(since), "republished_count": count},
    }
    return json.dumps(marker, separators=(",", ":"))


def _chunks(events: Iterable[WorldEvent]) -> Iterator[list[WorldEvent]]:
    chunk: list[WorldEvent] = []
    for event in events:
        chunk.append(event)
        if len(chunk) == REPUBLISH_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def republish_after_loss(client: redis.Redis, stream: str, now: datetime) -> int:
    """Write the marker and the window's relayed events; the number of events re-published."""
    window = int(settings.WORLDSERVICE["STREAM_REPUBLISH_WINDOW_SECONDS"])
    since = now - timedelta(seconds=window)
    relayed = WorldEvent.objects.filter(relayed_at__isnull=False, created_at__gte=since)
    count = relayed.count()
    marker = stream_reset_marker(since=since, count=count, now=now)
    written = [client.xadd(stream, {STREAM_FIELD: marker})]
    for chunk in _chunks(relayed.order_by("id").iterator(chunk_size=REPUBLISH_CHUNK)):
        pipeline = client.pipeline(transaction=True)
        for event in chunk:
            pipeline.xadd(stream, {STREAM_FIELD: encode_event(event)})
        written.extend(pipeline.execute())
    remember_last_entry(stream, written)
    logger.warning(
        "relay: the stream %s lost entries (Redis restarted or was restored); wrote a %s "
        "marker and re-published %d events recorded since %s",
        stream,
        STREAM_RESET_TYPE,
        count,
        rfc3339(since),
    )
    return count
