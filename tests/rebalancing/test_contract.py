"""The REST side of the rebalancing contract fixtures, v1 and v2 (tests/rebalancing/contract.py)."""

from __future__ import annotations

import pytest

from rebalancing.models import RebalanceRun, WorldAllocation
from tests.factories import make_world
from tests.rebalancing.contract import (
    FIXTURES,
    VERSIONS,
    WORLDS,
    fixture,
    serving,
    without_envelope,
)
from worlds.models import WorldAuditLog, WorldEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner, client_for):
    for world_id in WORLDS:
        make_world(owner=owner, world_id=world_id)
    return client_for(owner)


def _planned_payloads():
    events = WorldEvent.objects.filter(type="rebalancing_planned").order_by("world_id")
    return {event.world_id: without_envelope(event.data) for event in events}


@pytest.mark.parametrize("version", VERSIONS)
def test_plan__fixture_request__fixture_response_and_nothing_recorded(client, version):
    with serving(version):
        response = client.post("/rebalancing/plan", fixture(version, "request"), format="json")

    assert response.status_code == 200, response.content
    assert response.json() == fixture(version, "response")
    assert not WorldEvent.objects.filter(type="rebalancing_planned").exists()


@pytest.mark.parametrize("version", VERSIONS)
def test_apply__fixture_request__fixture_response_and_events(client, version):
    body = {**fixture(version, "request"), "run_id": f"rb-v{version}"}

    with serving(version):
        response = client.post("/rebalancing/apply", body, format="json")
        again = client.post("/rebalancing/apply", body, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == again.json() == fixture(version, "response")
    assert _planned_payloads() == fixture(version, "events")
    assert WorldAuditLog.objects.filter(event="rebalancing_planned").count() == len(WORLDS)


@pytest.mark.parametrize("version", VERSIONS)
def test_allocations__first_upsert__fixture_response_and_no_events(client, version):
    with serving(version):
        body = fixture(version, "allocations.request")
        response = client.post("/allocations", body, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == fixture(version, "allocations.response")
    assert not WorldEvent.objects.filter(type="rebalancing_planned").exists()
    assert WorldAuditLog.objects.filter(event="allocation_upserted").count() == len(WORLDS)


@pytest.mark.parametrize("version", VERSIONS)
def test_allocations__execute__planned_from_recorded_shares_and_announced(client, version):
    with serving(version):
        client.post("/allocations", fixture(version, "allocations.request"), format="json")
        response = client.post(
            "/allocations", fixture(version, "allocations_execute.request"), format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json() == fixture(version, "allocations_execute.response")
    assert _planned_payloads() == fixture(version, "allocations_execute.events")
    requested = fixture(version, "allocations_execute.request")["world_allocations"]
    assert {a.world_id: a.allocation for a in WorldAllocation.objects.all()} == requested
    assert RebalanceRun.objects.get(run_id="al-exec-1").response == response.json()


@pytest.mark.parametrize("version", VERSIONS)
def test_fixtures__every_payload_with_a_plan__carries_its_schema_version(version):
    names = sorted(path.stem for path in (FIXTURES / f"v{version}").glob("*events.json"))

    assert names == ["allocations_execute.events", "events"]
    for name in names:
        for payload in fixture(version, name).values():
            assert "plan" in payload
            assert payload["schema_version"] == version
