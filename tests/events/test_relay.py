"""The outbox relay on PostgreSQL and Redis: order, exactly-once per key, outages, two relays."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict

import psycopg
import pytest
import redis
from django.db import connection
from django.utils import timezone
from prometheus_client import REGISTRY

from tests.events.helpers import (
    closed_port_url,
    cloudevents_of_rows,
    pending_ids,
    record_world_updates,
)
from worlds.models import WorldEvent
from worlds.relay import RELAY_LOCK_CLASS, RELAY_LOCK_ID, relay_batch, relay_pending

pytestmark = pytest.mark.django_db


def _assert_each_key_once_in_world_order(events):
    keys = [event["id"] for event in events]
    assert len(keys) == len(set(keys)), "an idempotency key was published twice"
    by_world = defaultdict(list)
    for event in events:
        by_world[event["subject"]].append(event["data"]["seq"])
    for world_id, seqs in by_world.items():
        assert seqs == list(range(1, len(seqs) + 1)), f"{world_id} out of order: {seqs}"


def test_relay_batch__pending_events__published_as_cloudevents_in_id_order(event_stream):
    record_world_updates("alpha", 3)
    record_world_updates("beta", 2)
    record_world_updates("alpha", 2)

    published = relay_batch()

    assert published == 7
    events = event_stream.events()
    assert events == cloudevents_of_rows()
    assert [event["subject"] for event in events] == ["alpha"] * 3 + ["beta"] * 2 + ["alpha"] * 2
    _assert_first_cloudevent(events[0])
    _assert_each_key_once_in_world_order(events)
    assert pending_ids() == []


def _assert_first_cloudevent(first):
    assert first["specversion"] == "1.0"
    assert first["source"] == "worldservice"
    assert first["type"] == "world_updated"
    assert first["datacontenttype"] == "application/json"
    assert first["id"] == first["data"]["idempotency_key"] == "alpha:1"
    assert first["time"].endswith("Z")


def test_relay_batch__run_again__each_idempotency_key_published_once(event_stream):
    record_world_updates("alpha", 4)
    relay_batch()

    again = relay_batch()
    record_world_updates("alpha", 1)
    later = relay_batch()

    assert again == 0
    assert later == 1
    events = event_stream.events()
    assert [event["id"] for event in events] == [f"alpha:{seq}" for seq in range(1, 6)]
    _assert_each_key_once_in_world_order(events)


def test_relay_batch__limit__oldest_first_and_rest_stays_pending(event_stream):
    rows = record_world_updates("alpha", 5)

    first = relay_batch(limit=3)

    assert first == 3
    assert pending_ids() == [row.id for row in rows[3:]]
    assert [event["data"]["seq"] for event in event_stream.events()] == [1, 2, 3]
    assert relay_pending(limit=3) == 2
    assert [event["data"]["seq"] for event in event_stream.events()] == [1, 2, 3, 4, 5]


def test_relay_batch__marks_rows__relayed_at_set_once(event_stream):
    record_world_updates("alpha", 2)

    relay_batch()
    stamps = list(WorldEvent.objects.values_list("relayed_at", flat=True))
    relay_batch()

    assert all(stamp is not None for stamp in stamps)
    assert list(WorldEvent.objects.values_list("relayed_at", flat=True)) == stamps


def test_relay_batch__redis_down__rows_stay_pending_then_retried(event_stream, settings):
    rows = record_world_updates("alpha", 3)
    settings.REDIS_URL = closed_port_url()

    with pytest.raises(redis.ConnectionError):
        relay_batch()
    with pytest.raises(redis.ConnectionError):
        relay_batch()

    assert pending_ids() == [row.id for row in rows]
    settings.REDIS_URL = event_stream.url
    assert relay_batch() == 3
    assert pending_ids() == []
    events = event_stream.events()
    assert [event["id"] for event in events] == ["alpha:1", "alpha:2", "alpha:3"]


def test_relay_batch__redis_refuses_the_write__nothing_marked(event_stream):
    rows = record_world_updates("alpha", 2)
    event_stream.client().set(event_stream.name, "not a stream")

    with pytest.raises(redis.ResponseError):
        relay_batch()

    assert pending_ids() == [row.id for row in rows]
    event_stream.delete()
    assert relay_batch() == 2
    assert [event["id"] for event in event_stream.events()] == ["alpha:1", "alpha:2"]


def test_relay_batch__no_redis__noop_and_events_stay_recorded(settings):
    settings.REDIS_URL = ""
    rows = record_world_updates("alpha", 2)

    assert relay_batch() == 0

    assert pending_ids() == [row.id for row in rows]


def test_relay_batch__bad_limit__refused(event_stream):
    with pytest.raises(ValueError, match="limit"):
        relay_batch(limit=0)


def test_relay_batch__another_relay_holds_the_lock__publishes_nothing(event_stream):
    record_world_updates("alpha", 2)
    settings_dict = connection.settings_dict
    other = psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname=settings_dict["NAME"],
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [RELAY_LOCK_CLASS, RELAY_LOCK_ID])

        blocked = relay_batch()

        other.execute("SELECT pg_advisory_unlock(%s, %s)", [RELAY_LOCK_CLASS, RELAY_LOCK_ID])
    finally:
        other.close()
    assert blocked == 0
    assert event_stream.length() == 0
    assert relay_batch() == 2


def test_relay_batch__metrics__lag_and_backlog_updated(event_stream):
    record_world_updates("alpha", 3)
    WorldEvent.objects.update(created_at=timezone.now() - dt.timedelta(seconds=10))

    relay_batch(limit=2)
    backlog_after_partial = REGISTRY.get_sample_value("audit_backlog_depth")
    relay_batch()

    assert backlog_after_partial == 1
    assert REGISTRY.get_sample_value("audit_backlog_depth") == 0
    lag = REGISTRY.get_sample_value("event_relay_lag_seconds")
    assert lag is not None
    assert 10 <= lag < 60


@pytest.mark.django_db(transaction=True)
def test_relay_batch__two_relays_at_once__per_world_order_and_no_duplicates(event_stream):
    for world_id in ("w1", "w2", "w3"):
        record_world_updates(world_id, 40)
    errors: list[BaseException] = []

    def relay_until_drained() -> None:
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if relay_batch(limit=7) == 0 and not pending_ids():
                    return
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=relay_until_drained) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    assert pending_ids() == []
    events = event_stream.events()
    assert len(events) == 120
    _assert_each_key_once_in_world_order(events)
