"""`rebalancing_planned` on the stream and through replay, against the contract fixtures."""

from __future__ import annotations

import pytest

from tests.factories import make_world
from tests.rebalancing.contract import VERSIONS, WORLDS, fixture, serving, without_envelope
from worlds.relay import relay_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner, client_for):
    for world_id in WORLDS:
        make_world(owner=owner, world_id=world_id)
    return client_for(owner)


def _planned(events):
    return [event for event in events if event["type"] == "rebalancing_planned"]


def _payloads_by_world(events):
    return {event["subject"]: without_envelope(event["data"]) for event in _planned(events)}


def _assert_envelopes(events):
    for event in _planned(events):
        data = event["data"]
        assert event["id"] == data["idempotency_key"] == f"{event['subject']}:{data['seq']}"
        assert data["world_id"] == event["subject"]


@pytest.mark.parametrize("version", VERSIONS)
def test_apply__relayed__stream_carries_the_fixture_payloads(client, event_stream, version):
    with serving(version):
        client.post(
            "/rebalancing/apply", {**fixture(version, "request"), "run_id": "rb-1"}, format="json"
        )

    relay_batch()

    events = event_stream.events()
    assert _payloads_by_world(events) == fixture(version, "events")
    _assert_envelopes(events)


@pytest.mark.parametrize("version", VERSIONS)
def test_allocations_execute__relayed__stream_carries_the_fixture_payloads(
    client, event_stream, version
):
    with serving(version):
        client.post("/allocations", fixture(version, "allocations.request"), format="json")
        client.post("/allocations", fixture(version, "allocations_execute.request"), format="json")

    relay_batch()

    events = event_stream.events()
    assert _payloads_by_world(events) == fixture(version, "allocations_execute.events")
    _assert_envelopes(events)


@pytest.mark.parametrize("version", VERSIONS)
def test_apply__replayed_over_http__the_fixture_payload_per_world(client, version):
    with serving(version):
        client.post("/rebalancing/apply", fixture(version, "request"), format="json")

    for world_id in WORLDS:
        results = client.get(f"/worlds/{world_id}/events").json()["results"]
        assert _payloads_by_world(results) == {world_id: fixture(version, "events")[world_id]}
        _assert_envelopes(results)
