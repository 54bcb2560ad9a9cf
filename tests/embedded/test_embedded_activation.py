"""Activation on the embedded default: SQLite, the database-backed store, no Redis."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from activation.models import ActivationRow, ActivationSnapshot
from activation.services.overrides import deactivate_all
from activation.store import get_store
from activation.store.database import DatabaseActivationStore
from tests.factories import UserFactory, make_world, unfinished_apply_run
from worlds.models import World, WorldAuditLog, WorldEvent
from worldservice.clock import rfc3339

pytestmark = pytest.mark.django_db

URL = "/worlds/demo/activation"
ENTRY = URL + "?strategy_id=s1&side=long"


@pytest.fixture
def owner():
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="demo")
    return owner


def test_store__database_backend_without_redis(owner):
    assert isinstance(get_store(), DatabaseActivationStore)


def test_override_read_etag_and_history(owner, client_for):
    client = client_for(owner)
    start = timezone.now()

    put = client.put(URL, {"strategy_id": "s1", "side": "long", "active": True}, format="json")
    etag = put.json()["etag"]

    assert put.status_code == 200 and etag == "act:demo:s1:long:1"
    assert ActivationRow.objects.filter(world_id="demo").count() == 1
    assert client.get(ENTRY).json() == put.json()
    assert client.get(ENTRY, HTTP_IF_NONE_MATCH=f'"{etag}"').status_code == 304
    stale = client.put(
        URL,
        {"strategy_id": "s1", "side": "long", "active": False},
        format="json",
        HTTP_IF_MATCH='"act:demo:s1:long:0"',
    )
    assert stale.status_code == 412
    _assert_one_entry_then_and_none_before(client, start)
    assert WorldAuditLog.objects.filter(event="activation_updated").count() == 1
    assert WorldEvent.objects.filter(type="activation_updated").count() == 1
    assert ActivationSnapshot.objects.filter(world_id="demo").count() == 1


def _assert_one_entry_then_and_none_before(client, start):
    body = client.get(URL).json()
    assert body["version"] == 1 and len(body["entries"]) == 1
    assert client.get(URL + "/state_hash").json()["state_hash"] == body["state_hash"]
    assert client.get(URL, {"at": rfc3339(start)}).json()["entries"] == []


def test_ttl_override__reverted_lazily(owner, client_for, monkeypatch):
    client = client_for(owner)
    client.put(URL, {"strategy_id": "s1", "side": "long", "active": True}, format="json")
    client.put(
        URL,
        {"strategy_id": "s1", "side": "long", "active": False, "ttl_seconds": 5},
        format="json",
    )
    later = timezone.now() + dt.timedelta(seconds=10)
    monkeypatch.setattr("activation.entries.clock", lambda: later)

    body = client.get(ENTRY).json()

    assert body["active"] is True and body["etag"] == "act:demo:s1:long:3"


def test_apply_in_flight__override_refused__409(owner, client_for):
    unfinished_apply_run(World.objects.get(pk="demo"))

    response = client_for(owner).put(
        URL, {"strategy_id": "s1", "side": "long", "active": True}, format="json"
    )

    assert response.status_code == 409 and response.json()["code"] == "apply_in_progress"


def test_deactivate_all_and_restore_command(owner, client_for):
    client = client_for(owner)
    client.put(URL, {"strategy_id": "s1", "side": "long", "active": True}, format="json")

    assert deactivate_all(actor=owner, world_id="demo") == 2
    out = io.StringIO()
    call_command("restore_activation", stdout=out)

    assert "demo: intact at version 2" in out.getvalue()
    assert client.get(ENTRY).json()["active"] is False
