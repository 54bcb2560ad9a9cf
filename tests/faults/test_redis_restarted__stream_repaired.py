"""Redis restarted without persistence loses the stream; the relay notices before publishing
anything new, writes a `stream_reset` marker and re-publishes the window's events
(docs/events.md, "After Redis lost the stream"). On a private redis-server."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.events.helpers import EventStream, record_world_updates
from tests.faults.dependencies import PrivateRedis
from worlds.models import RelayCursor, WorldEvent
from worlds.relay import relay_pending
from worldservice.redis_clients import GUARD, server_of_url

pytestmark = [pytest.mark.faults, pytest.mark.django_db]

STREAM = "test.events.restarted"
WINDOW_SECONDS = 3600


def _stream_events(url: str) -> list[dict]:
    return EventStream(url=url, name=STREAM).events()


@pytest.fixture
def private_stream(processes, settings):
    server = PrivateRedis(processes)
    server.start()
    settings.REDIS_URL = server.url(0)
    settings.WORLDSERVICE = {
        **settings.WORLDSERVICE,
        "EVENT_STREAM": STREAM,
        "STREAM_REPUBLISH_WINDOW_SECONDS": WINDOW_SECONDS,
    }
    yield server
    GUARD.reset(server_of_url(server.url(0)))


def _restart(server: PrivateRedis) -> None:
    server.restart()
    GUARD.reset(server_of_url(server.url(0)))


def test_redis_restarted__marker_then_window_republished_then_new_events(private_stream):
    url = private_stream.url(0)
    old, *recent = record_world_updates("alpha", 3)
    WorldEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=WINDOW_SECONDS + 60)
    )
    assert relay_pending() == 3
    assert len(_stream_events(url)) == 3

    _restart(private_stream)
    assert _stream_events(url) == []
    [new] = record_world_updates("alpha", 1)
    assert relay_pending() == 1

    events = _stream_events(url)
    marker, *rest = events
    assert marker["type"] == "stream_reset"
    assert marker["source"] == "worldservice"
    assert marker["data"]["republished_count"] == len(recent)
    # The window's events come back in order, then the new one; the old one stays out.
    assert [e["id"] for e in rest] == [e.idempotency_key for e in [*recent, new]]
    assert old.idempotency_key not in {e["id"] for e in rest}


def test_redis_restarted__repaired_once__later_batches_publish_only_new(private_stream):
    url = private_stream.url(0)
    record_world_updates("beta", 2)
    relay_pending()
    _restart(private_stream)
    relay_pending()
    repaired = _stream_events(url)

    record_world_updates("beta", 1)
    assert relay_pending() == 1
    after = _stream_events(url)
    assert after[: len(repaired)] == repaired
    assert [e["type"] for e in after].count("stream_reset") == 1
    assert len(after) == len(repaired) + 1


def test_stream_intact__no_marker_and_cursor_follows_last_entry(private_stream):
    url = private_stream.url(0)
    record_world_updates("gamma", 2)
    relay_pending()
    record_world_updates("gamma", 1)
    relay_pending()

    events = _stream_events(url)
    assert [e["type"] for e in events] == ["world_updated"] * 3
    last_id = EventStream(url=url, name=STREAM).client().xinfo_stream(STREAM)["last-generated-id"]
    assert isinstance(last_id, bytes)
    assert RelayCursor.objects.get(stream=STREAM).last_entry_id == last_id.decode()
