"""Redis loses everything (FLUSHDB): reads answer inactive, then the set is rebuilt from the
latest snapshot (and the audit rows after it) at versions above every version ever issued."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from activation.locks import rebuild_lock_name
from activation.models import ActivationSnapshot
from activation.redis_client import get_redis
from activation.services.overrides import override_activation
from activation.store import get_store
from tests.factories import UserFactory, make_world, token_for
from worlds.models import WorldAuditLog, WorldEvent

pytestmark = [pytest.mark.django_db, pytest.mark.faults]

URL = "/worlds/alpha/activation"
PUBLIC = ("active", "weight", "freeze", "drain", "effective_mode", "run_id", "expires_at")


@pytest.fixture
def redis_client():
    return get_redis()


@pytest.fixture
def client(member, client_for):
    return client_for(member("operator"))


def _entry_url(strategy_id, side="long"):
    return f"{URL}?strategy_id={strategy_id}&side={side}"


def _version(etag):
    return int(etag.rsplit(":", 1)[1])


def _seed(client):
    for body in (
        {"strategy_id": "a", "side": "long", "active": True, "weight": 0.5, "run_id": "r1"},
        {"strategy_id": "b", "side": "short", "active": False, "freeze": True},
        {"strategy_id": "c", "side": "long", "active": True, "ttl_seconds": 600},
    ):
        assert client.put(URL, body, format="json").status_code == 200
    return client.get(URL).json()


def _rebuild_rows():
    return WorldAuditLog.objects.filter(event="activation_updated", result__cause="rebuild")


def test_redis_flushed__activation_rebuilt_from_snapshot(world, client, redis_client):
    """Reads answer inactive while a rebuild runs, then the rebuilt set; versions increase."""
    before = _seed(client)
    assert before["version"] == 3
    set_etag = client.get(URL)["ETag"]

    redis_client.flushdb()

    # Another process is rebuilding: every read meanwhile answers inactive.
    _assert_inactive_while_another_rebuilds(client, redis_client, set_etag)
    assert not _rebuild_rows().exists()

    # The next read takes the lock, rebuilds, and answers from the rebuilt set.
    _assert_rebuilt_with_higher_versions(client, before)

    # Rebuilt once, announced to consumers, snapshotted.
    client.get(_entry_url("b", "short"))
    assert _rebuild_rows().count() == 3
    assert WorldEvent.objects.filter(data__cause="rebuild").count() == 3
    assert ActivationSnapshot.objects.filter(world_id="alpha", reason="rebuild", version=4).exists()

    # Writes continue above.
    written = client.put(
        URL, {"strategy_id": "a", "side": "long", "active": False}, format="json"
    ).json()
    assert written["etag"] == "act:alpha:a:long:5"


def _assert_inactive_while_another_rebuilds(client, redis_client, set_etag):
    lock = redis_client.lock(rebuild_lock_name("alpha"), timeout=30)
    assert lock.acquire(blocking=False)
    try:
        assert client.get(_entry_url("a")).status_code == 404
        during = client.get(URL, HTTP_IF_NONE_MATCH=set_etag)
        assert during.status_code == 200 and not during.has_header("ETag")
        assert during.json()["entries"] == [] and during.json()["version"] == 3
        assert client.get(URL + "/state_hash").json()["version"] == 3
    finally:
        lock.release()


def _assert_rebuilt_with_higher_versions(client, before):
    rebuilt_a = client.get(_entry_url("a"))
    assert rebuilt_a.status_code == 200
    after = client.get(URL).json()
    assert after["version"] == 4
    assert [(e["strategy_id"], e["side"]) for e in after["entries"]] == [
        (e["strategy_id"], e["side"]) for e in before["entries"]
    ]
    for old, new in zip(before["entries"], after["entries"], strict=True):
        assert {k: new[k] for k in PUBLIC} == {k: old[k] for k in PUBLIC}
        assert _version(new["etag"]) == 4 > _version(old["etag"])
    assert rebuilt_a.json()["etag"] == "act:alpha:a:long:4"


def test_redis_flushed__first_use_is_a_write__rebuilt_then_written(world, client, redis_client):
    _seed(client)
    redis_client.flushdb()

    response = client.put(URL, {"strategy_id": "d", "side": "long", "active": True}, format="json")

    assert response.status_code == 200
    assert response.json()["etag"] == "act:alpha:d:long:5"  # rebuild 4, this write 5
    strategies = [e["strategy_id"] for e in client.get(URL).json()["entries"]]
    assert strategies == ["a", "b", "c", "d"]


def test_redis_flushed__no_snapshot_left__rebuilt_from_audit_rows(world, client, redis_client):
    before = _seed(client)
    ActivationSnapshot.objects.all().delete()
    redis_client.flushdb()

    after = client.get(URL).json()

    assert [e["strategy_id"] for e in after["entries"]] == ["a", "b", "c"]
    assert after["version"] > before["version"]


def test_redis_flushed__expired_override_in_snapshot__reverted_after_rebuild(
    world, owner, client, redis_client, monkeypatch
):
    client.put(URL, {"strategy_id": "a", "side": "long", "active": True}, format="json")
    client.put(
        URL,
        {"strategy_id": "a", "side": "long", "active": False, "ttl_seconds": 60},
        format="json",
    )
    redis_client.flushdb()
    later = timezone.now() + dt.timedelta(seconds=120)
    monkeypatch.setattr("activation.entries.clock", lambda: later)

    body = client.get(_entry_url("a")).json()

    assert body["active"] is True and body["expires_at"] is None
    assert _version(body["etag"]) == 4  # rebuilt at 3, reverted at 4


@pytest.mark.django_db(transaction=True)
def test_redis_flushed__many_readers_at_once__one_rebuild():
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="alpha")
    for strategy_id in ("a", "b"):
        override_activation(
            actor=owner, world_id="alpha", strategy_id=strategy_id, side="long", active=True
        )
    secret = token_for(owner)
    get_redis().flushdb()
    barrier = Barrier(12)

    def read(_: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        try:
            return client.get(_entry_url("a")).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(read, range(12)))

    assert set(statuses) <= {200, 404} and 200 in statuses
    assert _rebuild_rows().count() == 2  # one rebuild: one row per entry
    assert get_store().version("alpha") == 3
