"""The ways the relay runs: `manage.py relay_events` and the Celery beat task."""

from __future__ import annotations

import logging
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.events.helpers import closed_port_url, pending_ids, record_world_updates
from worlds.management.commands.relay_events import Command
from worlds.tasks import relay_outbox
from worldservice.beat import CELERY_BEAT_SCHEDULE

pytestmark = pytest.mark.django_db


def test_relay_events_once__pending_events__all_relayed(event_stream):
    record_world_updates("alpha", 7)
    out = StringIO()

    call_command("relay_events", "--once", "--limit", "3", stdout=out)

    assert "relayed 7 events" in out.getvalue()
    assert [event["data"]["seq"] for event in event_stream.events()] == list(range(1, 8))
    assert pending_ids() == []


def test_relay_events_once__redis_down__fails_and_events_stay_pending(event_stream, settings):
    rows = record_world_updates("alpha", 2)
    settings.REDIS_URL = closed_port_url()

    with pytest.raises(CommandError, match="events stay pending"):
        call_command("relay_events", "--once", stdout=StringIO())

    assert pending_ids() == [row.id for row in rows]


def test_relay_events_once__no_redis__says_so(settings):
    settings.REDIS_URL = ""
    record_world_updates("alpha", 1)
    out = StringIO()

    call_command("relay_events", "--once", stdout=out)

    assert "no REDIS_URL" in out.getvalue()
    assert len(pending_ids()) == 1


@pytest.mark.parametrize("option", [["--interval", "0"], ["--interval", "x"], ["--limit", "0"]])
def test_relay_events__bad_option__refused(option):
    with pytest.raises(CommandError):
        call_command("relay_events", "--once", *option)


def test_relay_events_loop__redis_down_then_back__backs_off_then_relays(
    event_stream, settings, caplog
):
    record_world_updates("alpha", 3)
    good_url = event_stream.url
    settings.REDIS_URL = closed_port_url()
    stop = threading.Event()

    def bring_redis_back_then_stop() -> None:
        time.sleep(0.8)
        settings.REDIS_URL = good_url
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and event_stream.length() < 3:
            time.sleep(0.05)
        stop.set()

    helper = threading.Thread(target=bring_redis_back_then_stop)
    helper.start()
    command = Command(stdout=StringIO())
    with caplog.at_level(logging.WARNING, logger="worlds.relay"):
        published = command._loop(stop, interval=0.05, limit=500, max_backoff=1.0)
    helper.join()

    assert published == 3
    assert [event["id"] for event in event_stream.events()] == ["alpha:1", "alpha:2", "alpha:3"]
    messages = [record.getMessage() for record in caplog.records]
    assert any("Redis unavailable" in message for message in messages), messages
    assert any("resumed after" in message for message in messages), messages


def test_relay_outbox_task__pending_events__relays_one_batch(event_stream):
    record_world_updates("alpha", 2)

    result = relay_outbox.apply().get()

    assert result == 2
    assert event_stream.length() == 2


def test_relay_outbox_task__redis_down__no_error_and_events_stay(event_stream, settings):
    record_world_updates("alpha", 2)
    settings.REDIS_URL = closed_port_url()

    assert relay_outbox.apply().get() == 0

    assert len(pending_ids()) == 2


def test_relay_beat_schedule__names_the_registered_task():
    from worldservice.celery import app

    for entry in (e for e in CELERY_BEAT_SCHEDULE.values() if e["task"] == "worlds.relay_outbox"):
        assert entry["task"] in app.tasks
        assert entry["schedule"] > 0
