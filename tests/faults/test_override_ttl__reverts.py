"""Overrides with a TTL revert on their own: reads then show the entry as it was before (as a
new, higher version), or 404 when the override created it; whether or not anybody reads."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from activation.models import ActivationSnapshot
from activation.services.overrides import override_activation
from activation.store import get_store
from activation.tasks import expire_overrides
from tests.factories import UserFactory, make_world, token_for
from worlds.models import WorldAuditLog, WorldEvent

pytestmark = [pytest.mark.django_db, pytest.mark.faults]


def _stored(strategy_id: str = "s1", side: str = "long") -> dict:
    """The stored entry of world alpha (which must exist)."""
    entry = get_store().get("alpha", strategy_id, side).entry
    assert entry is not None
    return entry


URL = "/worlds/alpha/activation"
ENTRY = URL + "?strategy_id=s1&side=long"


class Clock:
    def __init__(self) -> None:
        self.now = timezone.now()

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    moving = Clock()
    monkeypatch.setattr("activation.entries.clock", lambda: moving.now)
    return moving


@pytest.fixture(params=["redis", "database"])
def backend(request, settings):
    if request.param == "database":
        settings.REDIS_URL = ""
    return request.param


@pytest.fixture
def client(member, client_for):
    return client_for(member("operator"))


def _put(client, **fields):
    body = {"strategy_id": "s1", "side": "long", "active": True, **fields}
    response = client.put(URL, body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _version(etag):
    return int(etag.rsplit(":", 1)[1])


def test_override_ttl__reverts(client, clock, backend):
    """The previous entry is back, as a new version, with an audit row and an event."""
    base = _put(client, weight=0.4, run_id="base")
    override = _put(client, active=False, run_id="hold", ttl_seconds=60)
    clock.advance(59)
    assert client.get(ENTRY).json()["run_id"] == "hold"

    clock.advance(2)
    response = client.get(ENTRY)

    body = response.json()
    assert (body["active"], body["weight"], body["run_id"]) == (True, 0.4, "base")
    assert body["expires_at"] is None
    assert _version(body["etag"]) == 3 > _version(override["etag"]) > _version(base["etag"])
    assert response["ETag"] == f'"{body["etag"]}"'
    row = WorldAuditLog.objects.get(event="activation_override_expired")
    assert row.actor == "system" and row.result["entry"]["run_id"] == "base"
    event = WorldEvent.objects.filter(type="activation_updated").latest("id")
    assert event.data["cause"] == "override_expired" and event.data["version"] == 3
    assert ActivationSnapshot.objects.filter(reason="override_expired", version=3).exists()


def test_ttl_override_created_entry__expired__entry_gone_404(client, clock, backend):
    _put(client, ttl_seconds=5)
    clock.advance(6)

    assert client.get(ENTRY).status_code == 404
    assert client.get(URL).json()["entries"] == []
    event = WorldEvent.objects.filter(type="activation_updated").latest("id")
    assert event.data["removed"] is True and event.data["active"] is False


def test_nobody_reads__beat_task_reverts(client, clock, backend):
    _put(client, weight=0.3)
    _put(client, active=False, ttl_seconds=10)
    clock.advance(11)

    reverted = expire_overrides.delay().get()

    entry = _stored("s1", "long")
    assert reverted == 1
    assert (entry["active"], entry["weight"], entry["version"]) == (True, 0.3, 3)
    assert expire_overrides.delay().get() == 0
    assert WorldAuditLog.objects.filter(event="activation_override_expired").count() == 1


def test_chain_of_ttl_overrides__reverts_step_by_step(client, clock, backend):
    _put(client, run_id="base")
    _put(client, run_id="first", weight=0.5, ttl_seconds=60)
    _put(client, run_id="second", active=False, ttl_seconds=30)

    clock.advance(31)
    assert client.get(ENTRY).json()["run_id"] == "first"
    clock.advance(30)
    assert client.get(ENTRY).json()["run_id"] == "base"


def test_chain_of_ttl_overrides__both_expired__straight_to_base(client, clock, backend):
    _put(client, run_id="base")
    _put(client, run_id="first", ttl_seconds=60)
    _put(client, run_id="second", ttl_seconds=30)
    clock.advance(100)

    body = client.get(ENTRY).json()

    assert body["run_id"] == "base" and _version(body["etag"]) == 4
    assert WorldAuditLog.objects.filter(event="activation_override_expired").count() == 1


def test_override_without_ttl__replaces_ttl_override__no_revert(client, clock, backend):
    _put(client, run_id="base")
    _put(client, run_id="temporary", ttl_seconds=10)
    _put(client, run_id="permanent")
    clock.advance(60)

    assert client.get(ENTRY).json()["run_id"] == "permanent"
    assert expire_overrides.delay().get() == 0


def test_set_read__expired_override__reverted_first(client, clock, backend):
    _put(client, run_id="base")
    _put(client, run_id="temporary", ttl_seconds=10)
    clock.advance(11)

    body = client.get(URL).json()

    assert [e["run_id"] for e in body["entries"]] == ["base"]
    assert body["version"] == 3


def test_expires_at__second_precision_rounded_up(client, clock):
    clock.now = clock.now.replace(microsecond=500_000)

    body = _put(client, ttl_seconds=1)

    ts = dt.datetime.fromisoformat(body["ts"].replace("Z", "+00:00"))
    expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert expires - ts == dt.timedelta(seconds=2)  # 0.5 s + 1 s, rounded up to the second


@pytest.mark.django_db(transaction=True)
def test_many_readers_at_expiry__one_revert(monkeypatch):
    moving = Clock()
    monkeypatch.setattr("activation.entries.clock", lambda: moving.now)
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="alpha")
    for fields in ({"run_id": "base"}, {"run_id": "temporary", "ttl_seconds": 5}):
        override_activation(
            actor=owner, world_id="alpha", strategy_id="s1", side="long", active=True, **fields
        )
    secret = token_for(owner)
    moving.advance(6)
    barrier = Barrier(10)

    def read(_: int) -> str:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        try:
            return client.get(ENTRY).json()["run_id"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        seen = list(pool.map(read, range(10)))

    assert seen == ["base"] * 10
    assert WorldAuditLog.objects.filter(event="activation_override_expired").count() == 1
