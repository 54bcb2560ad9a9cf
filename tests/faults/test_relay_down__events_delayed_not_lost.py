"""Relay or Redis outages delay events and never lose them (docs/contract.md#events), with real
processes.

The API writes happen in this process and commit; the relay is a separate
`python manage.py relay_events` process on the same test database.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from tests.events.helpers import EventStream, isolated_stream
from tests.factories import UserFactory, make_world
from tests.faults.conftest import ProcessLauncher, RealProcess, wait_until
from tests.processes import free_port
from worlds.models import WorldEvent

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

WRITES = 100
WORLD = "relayed"


@pytest.fixture
def event_stream(settings: Any) -> Iterator[EventStream]:
    yield from isolated_stream(settings)


@pytest.fixture
def owner_client(client_for: Any) -> Any:
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id=WORLD)  # records seq 1
    return client_for(owner)


def _toggle_circuit_breaker(client: Any, times: int) -> None:
    """`times` PATCHes, each flipping the breaker, so each records one world_updated event."""
    value = client.get(f"/worlds/{WORLD}").json()["circuit_breaker"]
    for _ in range(times):
        value = not value
        response = client.patch(f"/worlds/{WORLD}", {"circuit_breaker": value}, format="json")
        assert response.status_code == 200, response.content


def _start_relay(processes: ProcessLauncher, stream: EventStream, **env: str) -> RealProcess:
    return processes.manage(
        "relay_events",
        "--interval",
        "0.05",
        "--max-backoff",
        "1",
        env={**stream.env(), "DJANGO_LOG_LEVEL": "INFO", **env},
    )


def _pending() -> int:
    return WorldEvent.objects.filter(relayed_at__isnull=True).count()


def _assert_world_events_in_order_once(events: list[dict[str, Any]], total: int) -> None:
    keys = [event["id"] for event in events]
    assert len(keys) == len(set(keys)), "an idempotency key arrived twice"
    assert keys == [f"{WORLD}:{seq}" for seq in range(1, total + 1)]
    assert [event["data"]["seq"] for event in events] == list(range(1, total + 1))
    assert {event["type"] for event in events} == {"world_updated"}
    # seq 1 is the creation; every PATCH flipped the breaker, starting from False.
    assert [event["data"]["circuit_breaker"] for event in events[1:]] == [
        seq % 2 == 0 for seq in range(2, total + 1)
    ]


def test_relay_down__events_delayed_not_lost(processes, event_stream, owner_client):
    relay = _start_relay(processes, event_stream)
    wait_until(
        lambda: event_stream.length() == 1, timeout=30, message="the creation event", watch=[relay]
    )
    assert relay.stop() == 0, relay.output()
    assert "stopped after relaying 1 events" in relay.output()

    # The relay is down: 100 changes commit, their events wait in the outbox.
    _toggle_circuit_breaker(owner_client, WRITES)

    assert event_stream.length() == 1
    assert _pending() == WRITES
    metrics = owner_client.get("/metrics").content.decode()
    assert f"audit_backlog_depth {float(WRITES)}" in metrics
    replay = owner_client.get(f"/worlds/{WORLD}/events?after=1&limit=500").json()
    assert len(replay["results"]) == WRITES  # consumers can catch up meanwhile

    relay = _start_relay(processes, event_stream)
    wait_until(
        lambda: event_stream.length() >= WRITES + 1,
        timeout=60,
        message=lambda: f"{WRITES + 1} events on the stream (have {event_stream.length()})",
        watch=[relay],
    )
    assert relay.stop() == 0, relay.output()

    _assert_world_events_in_order_once(event_stream.events(), WRITES + 1)
    assert _pending() == 0


def test_relay_down__relay_killed_mid_stream__at_least_once_in_order(
    processes, event_stream, owner_client
):
    relay = _start_relay(processes, event_stream)
    _toggle_circuit_breaker(owner_client, WRITES // 2)
    wait_until(
        lambda: event_stream.length() >= 10, timeout=30, message="some events", watch=[relay]
    )
    relay.kill()  # SIGKILL: no clean shutdown, a batch may be published but not marked
    _toggle_circuit_breaker(owner_client, WRITES // 2)

    relay = _start_relay(processes, event_stream)
    total = WRITES + 1

    def delivered() -> list[dict[str, Any]] | None:
        events = event_stream.events()
        return events if len({event["id"] for event in events}) >= total else None

    events = wait_until(delivered, timeout=60, message="every key on the stream", watch=[relay])
    assert relay.stop() == 0, relay.output()

    # What a consumer sees after dropping repeats by id: every event, in seq order.
    seen: dict[str, dict[str, Any]] = {}
    for event in events:
        seen.setdefault(event["id"], event)
    _assert_world_events_in_order_once(list(seen.values()), total)
    assert _pending() == 0


def _start_redis(processes: ProcessLauncher, port: int) -> RealProcess:
    server = processes.start(
        [
            str(shutil.which("redis-server")),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        name="redis-server",
    )
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    wait_until(answers, timeout=15, message=f"redis-server on port {port}", watch=[server])
    return server


def test_relay_down__redis_down_while_relay_runs__delivered_after_restart(processes, owner_client):
    port = free_port()
    stream = EventStream(url=f"redis://127.0.0.1:{port}/0", name="faults.events")
    server = _start_redis(processes, port)
    relay = _start_relay(processes, stream)
    wait_until(
        lambda: stream.length() == 1, timeout=30, message="the creation event", watch=[relay]
    )

    server.kill()  # Redis crashes (and, without persistence, forgets the stream)
    _toggle_circuit_breaker(owner_client, WRITES)
    wait_until(
        lambda: "Redis unavailable" in relay.output(),
        timeout=30,
        message="the relay to report Redis down",
        watch=[relay],
    )
    assert _pending() == WRITES

    _start_redis(processes, port)
    # The restarted Redis lost the creation event the relay had written: the relay marks the
    # loss, re-publishes it (docs/events.md, "After Redis lost the stream"), then the backlog.
    wait_until(
        lambda: stream.length() >= WRITES + 2,
        timeout=60,
        message=lambda: f"a stream_reset marker and {WRITES + 1} events after the restart",
        watch=[relay],
    )
    assert relay.stop() == 0, relay.output()

    marker, *events = stream.events()
    assert marker["type"] == "stream_reset"
    assert [event["data"]["seq"] for event in events] == list(range(1, WRITES + 2))
    assert len({event["id"] for event in events}) == WRITES + 1
    assert _pending() == 0
    assert "resumed after" in relay.output()
