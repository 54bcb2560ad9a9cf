"""A private Redis Stream per test, and builders of outbox rows.

Every test clears the cache database (REDIS_URL's db, see tests/conftest.py), possibly from
another xdist worker while this test runs, so the relay tests point REDIS_URL at a database of
their own (`TEST_EVENTS_REDIS_URL`, default: REDIS_URL's server, db 15) and at a stream name
nobody else uses.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from django.db import transaction

from worlds.events import record_event
from worlds.models import WorldEvent

EVENTS_REDIS_DB = 15


def events_redis_url() -> str:
    explicit = os.environ.get("TEST_EVENTS_REDIS_URL")
    if explicit:
        return explicit
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    return urlunsplit(urlsplit(base)._replace(path=f"/{EVENTS_REDIS_DB}"))


def closed_port_url() -> str:
    """A Redis URL on a loopback port nothing listens on (Redis is "down")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@dataclass(frozen=True)
class EventStream:
    url: str
    name: str

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=5)

    def length(self) -> int:
        return int(self.client().xlen(self.name))

    def entries(self) -> list[dict[bytes, bytes]]:
        return [fields for _entry_id, fields in self.client().xrange(self.name)]

    def events(self) -> list[dict[str, Any]]:
        """The CloudEvents on the stream, oldest first."""
        events = []
        for fields in self.entries():
            assert set(fields) == {b"event"}, fields
            events.append(json.loads(fields[b"event"]))
        return events

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that should relay to this stream."""
        return {"REDIS_URL": self.url, "WORLDSERVICE_EVENT_STREAM": self.name}

    def delete(self) -> None:
        self.client().delete(self.name)


def isolated_stream(settings: Any) -> Iterator[EventStream]:
    """Point the relay at a fresh stream (pytest-django `settings` restores the old values)."""
    stream = EventStream(url=events_redis_url(), name=f"test.events.{uuid.uuid4().hex}")
    settings.REDIS_URL = stream.url
    settings.WORLDSERVICE = {**settings.WORLDSERVICE, "EVENT_STREAM": stream.name}
    yield stream
    stream.delete()


def record_world_updates(world_id: str, count: int) -> list[WorldEvent]:
    """`count` world_updated events for `world_id`, each committed (or saved) on its own."""
    recorded = []
    for index in range(count):
        with transaction.atomic():
            recorded.append(
                record_event(
                    world_id=world_id,
                    type="world_updated",
                    data={
                        "state": "ACTIVE",
                        "allow_live": False,
                        "circuit_breaker": index % 2 == 0,
                    },
                )
            )
    return recorded


def pending_ids() -> list[int]:
    return list(WorldEvent.objects.filter(relayed_at__isnull=True).values_list("id", flat=True))


def cloudevents_of_rows(world_id: str | None = None) -> list[dict[str, Any]]:
    """What the stream should carry for the recorded rows, in id order, as JSON round-trips."""
    from worlds.relay import encode_event

    rows = WorldEvent.objects.order_by("id")
    if world_id is not None:
        rows = rows.filter(world_id=world_id)
    return [json.loads(encode_event(row)) for row in rows]
