"""Gateway convergence: consumers acknowledge activation versions; their lag and skew."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from activation.consumers.models import ConsumerAck
from activation.consumers.selectors import STALE_AFTER_SECONDS, stale_consumer_count
from worlds.models import WorldEvent
from worldservice.clock import rfc3339

pytestmark = pytest.mark.django_db

ACK = "/worlds/alpha/activation/ack"
CONSUMERS = "/worlds/alpha/consumers"


def _override(client, strategy_id="s1", active=True):
    response = client.put(
        "/worlds/alpha/activation",
        {"strategy_id": strategy_id, "side": "long", "active": active},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _ack(client, etag, consumer="gw-1", processed_at=None, **extra):
    moment = processed_at or timezone.now()
    body = {"consumer": consumer, "etag": etag, "processed_at": rfc3339(moment), **extra}
    return client.post(ACK, body, format="json")


def _skew_count() -> float:
    return REGISTRY.get_sample_value("activation_skew_seconds_count") or 0.0


def test_ack__reader__recorded_with_skew_from_the_event(world, operator, reader, client_for):
    envelope = _override(client_for(operator))
    event = WorldEvent.objects.get(world_id="alpha", type="activation_updated")
    processed = event.created_at + dt.timedelta(seconds=1.5)
    observed_before = _skew_count()

    response = _ack(client_for(reader), envelope["etag"], processed_at=processed)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["consumer"] == "gw-1"
    assert body["etag"] == envelope["etag"] == "act:alpha:s1:long:1"
    assert body["version"] == 1
    assert body["lag_versions"] == 0 and body["stale"] is False
    assert body["skew_seconds"] == pytest.approx(1.5, abs=1e-3)
    assert _skew_count() == observed_before + 1
    stored = ConsumerAck.objects.get(world_id="alpha", consumer="gw-1")
    assert stored.event_time == event.created_at


def test_consumers__one_behind__lag_and_not_converged(world, operator, reader, client_for):
    operator_client = client_for(operator)
    first = _override(operator_client)
    _ack(client_for(reader), first["etag"], consumer="gw-behind")
    second = _override(operator_client, "s2")
    _ack(client_for(reader), second["etag"], consumer="gw-current")

    response = client_for(reader).get(CONSUMERS)

    assert response.status_code == 200
    body = response.json()
    assert body["world_id"] == "alpha" and body["version"] == 2
    assert body["converged"] is False
    by_name = {consumer["consumer"]: consumer for consumer in body["consumers"]}
    assert by_name["gw-behind"]["version"] == 1
    assert by_name["gw-behind"]["lag_versions"] == 1
    assert by_name["gw-behind"]["lag_seconds"] >= 0
    assert by_name["gw-current"]["lag_versions"] == 0
    assert by_name["gw-current"]["lag_seconds"] == 0


def test_consumers__everyone_current__converged(world, operator, reader, client_for):
    envelope = _override(client_for(operator))
    for name in ("gw-a", "gw-b"):
        _ack(client_for(reader), envelope["etag"], consumer=name)

    body = client_for(reader).get(CONSUMERS).json()

    assert body["converged"] is True
    assert [consumer["consumer"] for consumer in body["consumers"]] == ["gw-a", "gw-b"]


def test_ack__whole_set_etag__version_of_the_set(world, operator, reader, client_for):
    _override(client_for(operator))
    _override(client_for(operator), "s2")
    set_etag = client_for(reader).get("/worlds/alpha/activation")["ETag"].strip('"')

    response = _ack(client_for(reader), set_etag)

    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert response.json()["skew_seconds"] is not None


def test_ack__older_version_after_newer__newer_kept(world, operator, reader, client_for):
    first = _override(client_for(operator))
    second = _override(client_for(operator), "s2")
    _ack(client_for(reader), second["etag"])

    response = _ack(client_for(reader), first["etag"])

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert ConsumerAck.objects.get(consumer="gw-1").etag == second["etag"]


def test_ack__apply_stage__matched_by_run_id_and_sequence(world, operator, reader, client_for):
    response = client_for(operator).post(
        "/worlds/alpha/apply",
        {"run_id": "run-ack", "plan": {"activate": ["s1"], "deactivate": []}},
        format="json",
    )
    assert response.status_code == 200, response.content
    unfreeze = (
        WorldEvent.objects.filter(world_id="alpha", type="activation_updated")
        .filter(data__phase="unfreeze")
        .get()
    )

    acked = _ack(
        client_for(reader),
        unfreeze.data["etag"],
        run_id="run-ack",
        sequence=unfreeze.data["sequence"],
        processed_at=unfreeze.created_at + dt.timedelta(seconds=0.25),
    )

    assert acked.status_code == 200, acked.content
    assert acked.json()["skew_seconds"] == pytest.approx(0.25, abs=1e-3)
    assert acked.json()["run_id"] == "run-ack"
    assert acked.json()["sequence"] == unfreeze.data["sequence"]


NOW = "2099-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"consumer": "gw 1", "etag": "act:alpha:s1:long:1", "processed_at": None}, "consumer"),
        ({"consumer": "g" * 65, "etag": "act:alpha:s1:long:1", "processed_at": None}, "consumer"),
        ({"consumer": 7, "etag": "act:alpha:s1:long:1", "processed_at": None}, "consumer"),
        ({"consumer": "-gw", "etag": "act:alpha:s1:long:1", "processed_at": None}, "consumer"),
        ({"etag": "act:alpha:s1:long:1", "processed_at": None}, "consumer"),
        ({"consumer": "gw", "etag": "act:beta:s1:long:1", "processed_at": None}, "etag"),
        ({"consumer": "gw", "etag": "act:alpha:s1:long:99", "processed_at": None}, "etag"),
        ({"consumer": "gw", "etag": "act:alpha:s1:sideways:1", "processed_at": None}, "etag"),
        ({"consumer": "gw", "etag": "not-an-etag", "processed_at": None}, "etag"),
        ({"consumer": "gw", "etag": "x" * 401, "processed_at": None}, "etag"),
        ({"consumer": "gw", "etag": 1, "processed_at": None}, "etag"),
        ({"consumer": "gw", "etag": "act:alpha:s1:long:1"}, "processed_at"),
        (
            {"consumer": "gw", "etag": "act:alpha:s1:long:1", "processed_at": "yesterday"},
            "processed_at",
        ),
        (
            {
                "consumer": "gw",
                "etag": "act:alpha:s1:long:1",
                "processed_at": "2025-01-01T00:00:00",
            },
            "processed_at",
        ),
        ({"consumer": "gw", "etag": "act:alpha:s1:long:1", "processed_at": NOW}, "processed_at"),
        (
            {
                "consumer": "gw",
                "etag": "act:alpha:s1:long:1",
                "processed_at": "2000-01-01T00:00:00Z",
            },
            "processed_at",
        ),
        (
            {"consumer": "gw", "etag": "act:alpha:s1:long:1", "processed_at": None, "sequence": -1},
            "sequence",
        ),
        (
            {
                "consumer": "gw",
                "etag": "act:alpha:s1:long:1",
                "processed_at": None,
                "sequence": "1",
            },
            "sequence",
        ),
        (
            {
                "consumer": "gw",
                "etag": "act:alpha:s1:long:1",
                "processed_at": None,
                "run_id": "a b",
            },
            "run_id",
        ),
        (
            {"consumer": "gw", "etag": "act:alpha:s1:long:1", "processed_at": None, "extra": 1},
            "extra",
        ),
    ],
)
def test_ack__bad_body__400_nothing_stored(world, operator, reader, client_for, body, field):
    _override(client_for(operator))
    if "processed_at" in body and body["processed_at"] is None:
        body = {**body, "processed_at": rfc3339(timezone.now())}

    response = client_for(reader).post(ACK, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert not ConsumerAck.objects.exists()


def test_ack__not_an_object__400_nothing_stored(world, reader, client_for):
    response = client_for(reader).post(ACK, ["gw"], format="json")

    assert response.status_code == 400
    assert not ConsumerAck.objects.exists()


def test_ack__no_role__404_anonymous__401(world, member, client_for):
    body = {"consumer": "gw", "etag": "act:alpha:s1:long:1", "processed_at": NOW}

    assert client_for(member("none")).post(ACK, body, format="json").status_code == 404
    assert client_for(None).post(ACK, body, format="json").status_code == 401
    assert client_for(member("none")).get(CONSUMERS).status_code == 404
    assert not ConsumerAck.objects.exists()


def test_ack__too_many_consumers__409_nothing_stored(
    world, operator, reader, client_for, monkeypatch
):
    monkeypatch.setattr("activation.consumers.services.MAX_CONSUMERS_PER_WORLD", 2)
    envelope = _override(client_for(operator))
    for name in ("gw-a", "gw-b"):
        assert _ack(client_for(reader), envelope["etag"], consumer=name).status_code == 200

    response = _ack(client_for(reader), envelope["etag"], consumer="gw-c")

    assert response.status_code == 409
    assert response.json()["code"] == "too_many_consumers"
    assert sorted(ConsumerAck.objects.values_list("consumer", flat=True)) == ["gw-a", "gw-b"]
    # A known consumer still moves forward.
    assert _ack(client_for(reader), envelope["etag"], consumer="gw-a").status_code == 200


def test_stale_consumers__behind_an_old_version__counted_on_metrics(
    world, operator, reader, client_for
):
    first = _override(client_for(operator))
    _ack(client_for(reader), first["etag"], consumer="gw-old")
    _override(client_for(operator), "s2")
    assert stale_consumer_count() == 0
    WorldEvent.objects.filter(world_id="alpha").update(
        created_at=timezone.now() - dt.timedelta(seconds=STALE_AFTER_SECONDS + 30)
    )

    assert stale_consumer_count() == 1
    metrics = client_for(None).get("/metrics").content.decode()
    assert "activation_stale_consumers 1.0" in metrics
    body = client_for(reader).get(CONSUMERS).json()
    assert body["consumers"][0]["stale"] is True
    assert body["consumers"][0]["lag_seconds"] > STALE_AFTER_SECONDS
