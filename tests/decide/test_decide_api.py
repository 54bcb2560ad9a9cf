"""Decide over HTTP: the mode ladder case by case, etags, caching and no look-ahead."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world
from worlds.models import World
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = pytest.mark.django_db

T0 = "2025-08-28T09:00:00Z"


@pytest.fixture
def live_world(owner):
    return make_world(owner=owner, world_id="live", allow_live=True, approvals_required=0)


@pytest.fixture
def client(owner, client_for):
    return client_for(owner)


def _ready(client, world_id="live", fingerprint="fp-1", rows=10, as_of=T0):
    client.post(f"/worlds/{world_id}/bindings", {"strategies": ["s1"]}, format="json")
    client.post(f"/worlds/{world_id}/decisions", {"strategies": ["s1"]}, format="json")
    history = {
        "strategy_id": "s1",
        "node_id": "n1",
        "interval": 60,
        "as_of": as_of,
        "dataset_fingerprint": fingerprint,
        "rows": rows,
    }
    assert client.post(f"/worlds/{world_id}/history", history, format="json").status_code == 204


def _decide(client, world_id="live", query=""):
    response = client.get(f"/worlds/{world_id}/decide{query}")
    assert response.status_code == 200, response.content
    return response


def test_decide__no_bindings__validate(world, client):
    body = _decide(client, "alpha").json()

    assert body["effective_mode"] == "validate"
    assert body["reason"] == "no_bindings"
    assert body["policy_version"] == 0
    assert body["ttl"] == "300s"


def test_decide__bindings_without_decisions__validate(world, client):
    client.post("/worlds/alpha/bindings", {"strategies": ["s1"]}, format="json")

    assert _decide(client, "alpha").json()["reason"] == "bindings_present&no_active_strategies"


def test_decide__all_live_conditions__live(live_world, client):
    _ready(client)

    response = _decide(client)
    body = response.json()

    assert body["effective_mode"] == "live"
    assert body["reason"] == (
        "bindings_present&decisions_present&allow_live&dataset_fingerprint_ok&metrics_ok"
    )
    assert body["as_of"] == T0
    assert body["dataset_fingerprint"] == "fp-1"
    assert body["rows"] == 10
    assert body["etag"].startswith("w:live:v0:")
    assert response["ETag"] == f'"{body["etag"]}"'
    assert response["Cache-Control"] == "max-age=300"


def test_decide__allow_live_off__compute_only_with_reason(world, client):
    _ready(client, "alpha")

    body = _decide(client, "alpha").json()

    assert body["effective_mode"] == "compute-only"
    assert body["reason"].endswith("allow_live_disabled")


def test_decide__fingerprint_and_metrics_missing__both_reasons(live_world, client):
    client.post("/worlds/live/bindings", {"strategies": ["s1"]}, format="json")
    client.post("/worlds/live/decisions", {"strategies": ["s1"]}, format="json")

    body = _decide(client).json()

    assert body["effective_mode"] == "compute-only"
    assert body["reason"] == (
        "bindings_present&decisions_present&dataset_fingerprint_missing&required_metrics_missing"
    )


def test_decide__suspended_world__compute_only(live_world, client):
    _ready(client)
    client.patch("/worlds/live", {"state": "SUSPENDED"}, format="json")

    body = _decide(client).json()

    assert (body["effective_mode"], body["reason"]) == ("compute-only", "world_suspended")


def test_decide__deleted_world__safe_mode(live_world, client):
    _ready(client)
    client.delete("/worlds/live")

    assert _decide(client).json()["effective_mode"] == "compute-only"


def test_decide__circuit_breaker__compute_only(live_world, client):
    _ready(client)
    client.patch("/worlds/live", {"circuit_breaker": True}, format="json")

    body = _decide(client).json()

    assert (body["effective_mode"], body["reason"]) == ("compute-only", "circuit_breaker")


def test_decide__stale_data__compute_only_data_currency_stale(live_world, owner, client):
    upload_policy(
        actor=owner, world_id="live", source=PolicySource(text="data_currency: {max_lag: 5m}\n")
    )
    _ready(client, as_of=T0)

    fresh = _decide(client, query="?as_of=2025-08-28T09:04:00Z").json()
    stale = _decide(client, query="?as_of=2025-08-28T09:06:00Z").json()

    assert fresh["policy_version"] == 1
    assert "data_currency_ok" in fresh["reason"]
    assert fresh["effective_mode"] == "live"
    assert stale["effective_mode"] == "compute-only"
    assert stale["reason"] == "bindings_present&decisions_present&data_currency_stale"


def test_decide__as_of_before_history__no_look_ahead(live_world, client):
    _ready(client, as_of=T0)

    body = _decide(client, query="?as_of=2025-08-28T08:00:00Z").json()

    assert body["dataset_fingerprint"] is None
    assert body["as_of"] == "2025-08-28T08:00:00Z"
    assert body["effective_mode"] == "compute-only"


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01T00:00:00Z", "2025-08-28T09:00:00"])
def test_decide__bad_as_of__400(live_world, client, value):
    assert client.get(f"/worlds/live/decide?as_of={value}").status_code == 400


def test_decide__unknown_world__404(client):
    assert client.get("/worlds/nowhere/decide").status_code == 404


def test_decide__hysteresis_hold__live_kept_on_same_fingerprint(live_world, client):
    _ready(client)
    assert _decide(client).json()["effective_mode"] == "live"
    history = {
        "strategy_id": "s1",
        "node_id": "n1",
        "interval": 60,
        "as_of": T0,
        "dataset_fingerprint": "fp-1",
        "rows": None,
    }
    client.post("/worlds/live/history", history, format="json")

    body = _decide(client).json()

    assert body["effective_mode"] == "live"
    assert body["reason"].endswith("allow_live&hysteresis_hold")
    assert body["ttl"] == "120s"


def test_decide__same_inputs_same_etag__change_gives_new_etag(live_world, client):
    _ready(client)
    first = _decide(client).json()["etag"]
    World.objects.filter(pk="live").update(name="cache bypass")  # not an input of decide
    assert _decide(client).json()["etag"] == first

    client.post("/worlds/live/decisions", {"strategies": ["s1", "s2"]}, format="json")

    assert _decide(client).json()["etag"] != first


def test_decide__if_none_match__304(live_world, client):
    _ready(client)
    etag = _decide(client)["ETag"]

    assert client.get("/worlds/live/decide", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_decide__cached__invalidated_by_world_change(live_world, client):
    _ready(client)
    assert _decide(client).json()["effective_mode"] == "live"

    client.patch("/worlds/live", {"allow_live": False}, format="json")

    assert _decide(client).json()["effective_mode"] == "compute-only"


def test_decide__cached__invalidated_by_default_policy_change(live_world, owner, client):
    _ready(client)
    assert _decide(client).json()["policy_version"] == 0

    upload_policy(actor=owner, world_id="live", source=PolicySource(preset="sandbox"))

    assert _decide(client).json()["policy_version"] == 1


def test_decide__etag_stable_while_clock_moves(live_world, client):
    client.post("/worlds/live/bindings", {"strategies": ["s1"]}, format="json")

    first = _decide(client).json()["etag"]
    cache.clear()  # force a recomputation at a later instant

    assert _decide(client).json()["etag"] == first


def test_decide__reader_role_enough(live_world, client_for, member):
    reader = UserFactory()
    grant_role(world=live_world, user=reader, role=Role.READER)

    assert client_for(reader).get("/worlds/live/decide").status_code == 200
    assert client_for(None).get("/worlds/live/decide").status_code == 401
    assert client_for(UserFactory()).get("/worlds/live/decide").status_code == 404
