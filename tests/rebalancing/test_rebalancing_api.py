"""Rebalancing and allocations over HTTP: roles, version negotiation, idempotency, events."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory, make_world, override_worldservice
from tests.rebalancing.contract import fixture
from worlds.models import WorldAuditLog, WorldEvent
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = pytest.mark.django_db

ALPHA_KEYS = {
    "alpha_performance.sharpe",
    "alpha_performance.max_drawdown",
    "alpha_performance.win_ratio",
    "alpha_performance.profit_factor",
    "alpha_performance.car_mdd",
    "alpha_performance.rar_mdd",
}


@pytest.fixture
def worlds(owner):
    return [make_world(owner=owner, world_id=w) for w in ("w1", "w2")]


def _request(**extra):
    return {**fixture(1, "request"), **extra}


def _settings(v2=False, required=False):
    return override_worldservice(COMPAT_REBALANCE_V2=v2, ALPHA_METRICS_REQUIRED=required)


def test_plan__v1__scales_and_deltas_without_alpha(worlds, owner, client_for):
    body = client_for(owner).post("/rebalancing/plan", _request(), format="json").json()

    assert body["schema_version"] == 1
    assert body["per_world"]["w1"]["scale_world"] == pytest.approx(1.2)
    assert body["per_world"]["w1"]["deltas"] == [{"symbol": "BTC", "delta_qty": pytest.approx(0.2)}]
    assert "alpha_metrics" not in body


def test_plan__v2_requested_with_compat_on__alpha_metrics_six_keys(worlds, owner, client_for):
    with _settings(v2=True):
        body = (
            client_for(owner)
            .post(
                "/rebalancing/plan",
                fixture(2, "request"),
                format="json",
            )
            .json()
        )

    assert body["schema_version"] == 2
    assert set(body["alpha_metrics"]["per_world"]["w1"]) == ALPHA_KEYS
    assert body["alpha_metrics"]["per_world"]["w2"]["alpha_performance.sharpe"] == 0.0


def test_plan__v2_requested_with_compat_off__capped_to_v1(worlds, owner, client_for):
    body = (
        client_for(owner)
        .post("/rebalancing/plan", _request(schema_version=2), format="json")
        .json()
    )

    assert body["schema_version"] == 1


def test_plan__alpha_required_and_v1__400_mentions_version(worlds, owner, client_for):
    with _settings(v2=True, required=True):
        response = client_for(owner).post("/rebalancing/plan", _request(), format="json")

    assert response.status_code == 400
    assert "schema_version>=2" in response.json()["detail"]


def test_plan__hybrid__501(worlds, owner, client_for):
    response = client_for(owner).post("/rebalancing/plan", _request(mode="hybrid"), format="json")

    assert response.status_code == 501


def test_plan__overlay_without_config__400(worlds, owner, client_for):
    assert (
        client_for(owner)
        .post("/rebalancing/plan", _request(mode="overlay"), format="json")
        .status_code
        == 400
    )


@pytest.mark.parametrize(
    "change",
    [
        {"total_equity": "lots"},
        {"bogus": 1},
        {"world_alloc_after": {"w1": 2}},
        {"positions": "none"},
    ],
)
def test_plan__bad_input__400(worlds, owner, client_for, change):
    response = client_for(owner).post("/rebalancing/plan", _request(**change), format="json")

    assert response.status_code == 400
    assert response.json()["errors"]


def test_plan__world_without_role__404(worlds, client_for):
    stranger = UserFactory()

    assert (
        client_for(stranger).post("/rebalancing/plan", _request(), format="json").status_code == 404
    )


def test_plan__reader_on_all__200_but_apply_needs_operator(worlds, client_for):
    reader = UserFactory()
    for world in worlds:
        grant_role(world=world, user=reader, role=Role.READER)
    client = client_for(reader)

    assert client.post("/rebalancing/plan", _request(), format="json").status_code == 200
    assert client.post("/rebalancing/apply", _request(), format="json").status_code == 403


def test_apply__records_audit_and_events_per_world(worlds, owner, client_for):
    response = client_for(owner).post("/rebalancing/apply", _request(run_id="rb-1"), format="json")

    assert response.status_code == 200
    events = WorldEvent.objects.filter(type="rebalancing_planned").order_by("world_id")
    assert [e.world_id for e in events] == ["w1", "w2"]
    assert events[0].data["alpha_metrics"] == {}
    assert events[0].data["schema_version"] == 1
    assert WorldAuditLog.objects.filter(event="rebalancing_planned").count() == 2


def test_apply__same_run_id__replayed_once(worlds, owner, client_for):
    client = client_for(owner)
    first = client.post("/rebalancing/apply", _request(run_id="rb-1"), format="json").json()

    again = client.post("/rebalancing/apply", _request(run_id="rb-1"), format="json")
    other = client.post(
        "/rebalancing/apply", _request(run_id="rb-1", min_trade_notional=5), format="json"
    )

    assert again.json() == first
    assert WorldEvent.objects.filter(type="rebalancing_planned").count() == 2
    assert other.status_code == 409
    assert other.json()["code"] == "run_id_conflict"


def test_allocations__upsert_then_read(worlds, owner, client_for):
    client = client_for(owner)
    body = fixture(1, "allocations.request")

    response = client.post("/allocations", body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["run_id"] == "al-1"
    assert response.json()["executed"] is False
    listing = client.get("/allocations").json()["allocations"]
    assert listing["w1"]["allocation"] == 0.7
    assert listing["w1"]["ttl"] == "300s"
    assert listing["w1"]["stale"] is False
    assert client.get("/allocations?world_id=w2").json()["allocations"]["w2"]["run_id"] == "al-1"
    assert (
        client.post(
            "/allocations", {**body, "world_allocations": {"w1": 0.5}}, format="json"
        ).status_code
        == 409
    )


def test_allocations__named_world_without_snapshot__404(worlds, owner, client_for):
    assert client_for(owner).get("/allocations?world_id=w1").status_code == 404


def test_allocations__missing_run_id__400(worlds, owner, client_for):
    response = client_for(owner).post(
        "/allocations", {"world_allocations": {"w1": 1}}, format="json"
    )

    assert response.status_code == 400
    assert "run_id" in response.json()["errors"]
