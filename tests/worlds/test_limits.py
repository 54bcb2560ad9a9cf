"""Each bound of docs/api.md "Limits": one over it is 400 naming the field, and nothing is stored.

The bounds are the configured ones (`worldservice.limits`), so the tests build inputs just over
them; the few bodies that would pass the 1 MiB body limit first raise that limit for the test.
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from activation.apply.models import ApplyRun
from activation.store import get_store
from policies.models import (
    EvaluationRun,
    HistoryEntry,
    StrategyBinding,
    WorldDecisions,
    WorldPolicy,
)
from rebalancing.models import RebalanceRun, WorldAllocation
from tests.factories import UserFactory, make_world, override_worldservice, token_for
from worlds.models import World, WorldAuditLog, WorldEvent
from worldservice.limits import (
    MAX_ACTIVATION_ENTRIES,
    MAX_CORRELATIONS,
    MAX_FREEFORM_JSON_BYTES,
    MAX_METRIC_NAME_CHARS,
    MAX_METRICS_PER_STRATEGY,
    MAX_POSITIONS,
    MAX_SERIES_POINTS,
    MAX_STRATEGIES,
    MAX_SYMBOLS,
    MAX_WORLDS_PER_REQUEST,
)

pytestmark = pytest.mark.django_db

BIG_BODY = 8 * 1024 * 1024


def big_bodies():
    return override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=BIG_BODY)


@pytest.fixture
def api(db):
    from rest_framework.test import APIClient

    owner = UserFactory(username="olivia", is_superuser=True)
    make_world(owner=owner, world_id="alpha", allow_live=True, approvals_required=0)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(owner)}")
    return client


def _stored() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            World,
            WorldAuditLog,
            WorldEvent,
            StrategyBinding,
            WorldDecisions,
            HistoryEntry,
            WorldPolicy,
            EvaluationRun,
            ApplyRun,
            RebalanceRun,
            WorldAllocation,
        )
    )


def _post(api, path, body, method="post"):
    with override_worldservice(MAX_BODY_BYTES=BIG_BODY), big_bodies():
        return getattr(api, method)(path, json.dumps(body), content_type="application/json")


def _refused(response, field: str) -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "invalid", body
    assert field in body["errors"], body["errors"].keys()


def _ids(count: int, prefix: str = "s") -> list[str]:
    return [f"{prefix}{i:06d}" for i in range(count)]


# --- bindings, decisions, history ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/worlds/alpha/bindings", "/worlds/alpha/decisions"])
def test_strategy_list__one_over_the_limit__400_and_nothing_stored(api, path):
    before = _stored()

    response = _post(api, path, {"strategies": _ids(MAX_STRATEGIES + 1)})

    _refused(response, "strategies")
    assert _stored() == before


def test_bindings__at_the_limit__accepted(api):
    response = _post(api, "/worlds/alpha/bindings", {"strategies": _ids(MAX_STRATEGIES)})

    assert response.status_code == 200
    assert StrategyBinding.objects.filter(world_id="alpha").count() == MAX_STRATEGIES


def test_bindings__world_full__400_and_nothing_stored(api):
    StrategyBinding.objects.bulk_create(
        StrategyBinding(world_id="alpha", strategy_id=s) for s in _ids(MAX_STRATEGIES)
    )
    before = _stored()

    response = _post(api, "/worlds/alpha/bindings", {"strategies": ["one-more"]})

    _refused(response, "strategies")
    assert _stored() == before


def test_history__world_full__new_strategy_400_existing_one_updated(api):
    from django.utils import timezone

    now = timezone.now()
    HistoryEntry.objects.bulk_create(
        HistoryEntry(world_id="alpha", strategy_id=s, node_id="n", interval=60, as_of=now)
        for s in _ids(MAX_STRATEGIES)
    )
    before = _stored()
    entry = {"node_id": "n2", "interval": 60}

    refused = _post(api, "/worlds/alpha/history", {"strategy_id": "one-more", **entry})

    _refused(refused, "strategy_id")
    assert _stored() == before
    updated = _post(api, "/worlds/alpha/history", {"strategy_id": "s000000", **entry})
    assert updated.status_code == 204
    assert HistoryEntry.objects.get(world_id="alpha", strategy_id="s000000").node_id == "n2"


@pytest.mark.parametrize(
    "field", ["coverage_bounds", "conformance_flags", "conformance_warnings", "artifact"]
)
def test_history__free_form_value_too_large__400_and_nothing_stored(api, field):
    before = _stored()
    value = {"blob": "x" * MAX_FREEFORM_JSON_BYTES}

    response = _post(
        api,
        "/worlds/alpha/history",
        {"strategy_id": "s1", "node_id": "n", "interval": 60, field: value},
    )

    _refused(response, field)
    assert _stored() == before


def test_history__interval_text_too_long__400(api):
    response = _post(
        api, "/worlds/alpha/history", {"strategy_id": "s1", "node_id": "n", "interval": "1" * 65}
    )

    _refused(response, "interval")
    assert not HistoryEntry.objects.exists()


# --- evaluate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metrics": {s: {} for s in _ids(MAX_STRATEGIES + 1)}}, "metrics"),
        (
            {"metrics": {"s1": {f"m{i}": 1.0 for i in range(MAX_METRICS_PER_STRATEGY + 1)}}},
            "metrics.s1",
        ),
        ({"metrics": {"s1": {"m" * (MAX_METRIC_NAME_CHARS + 1): 1.0}}}, "metrics.s1"),
        ({"series": {s: {} for s in _ids(MAX_STRATEGIES + 1)}}, "series"),
        ({"series": {"s1": {"returns": [0.01] * (MAX_SERIES_POINTS + 1)}}}, "series.s1.returns"),
        ({"series": {"s1": {"returns": [0.01, 1e16]}}}, "series.s1.returns"),
        (
            {"correlations": [{"a": "s1", "b": "s2", "value": 0.1}] * (MAX_CORRELATIONS + 1)},
            "correlations",
        ),
        ({"previous": _ids(MAX_STRATEGIES + 1)}, "previous"),
        ({"policy_version": 2**31}, "policy_version"),
    ],
    ids=[
        "strategies",
        "metrics-per-strategy",
        "metric-name",
        "series-strategies",
        "series-points",
        "series-value",
        "correlations",
        "previous",
        "policy-version",
    ],
)
def test_evaluate__over_a_limit__400_and_nothing_stored(api, body, field):
    before = _stored()

    response = _post(api, "/worlds/alpha/evaluate", body)

    _refused(response, field)
    assert _stored() == before


def test_evaluate__inline_policy_with_too_many_gates__400(api):
    gates = [f"m{i} >= 0.5" for i in range(1001)]

    response = _post(
        api, "/worlds/alpha/evaluate", {"policy": {"selection": {"gates": {"and": gates}}}}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_policy"
    assert any("too many gates" in m for ms in response.json()["errors"].values() for m in ms)
    assert not EvaluationRun.objects.exists()


# --- policy documents -----------------------------------------------------------------------


def test_policy_upload__document_with_too_many_values__400_and_nothing_stored(api):
    before = _stored()
    document = {"selection": {"gates": {"and": [f"m{i} >= 0.5" for i in range(10_001)]}}}

    response = _post(api, "/worlds/alpha/policies", {"policy": document})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_policy"
    assert "too many values" in response.json()["errors"]["policy"][0]
    assert _stored() == before


def test_policy_upload__stored_text_over_the_document_limit__400_and_nothing_stored(api):
    before = _stored()
    # within every other bound (1,000 gates, 10,000 values, 128-character metric names), but
    # its canonical YAML is over 256 KiB
    name = "m" * 124
    gates = [f"{name}{i:04d} >= {i}.123456789" for i in range(1000)]
    weights = {f"{name}w{i:03d}": 0.5 for i in range(900)}
    document = {"selection": {"gates": gates, "score": {"weights": weights}}}

    response = _post(api, "/worlds/alpha/policies", {"policy": document})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_policy"
    assert "stored text would be" in response.json()["errors"]["policy"][0]
    assert _stored() == before


# --- apply ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plan": {"activate": _ids(MAX_STRATEGIES + 1)}}, "plan.activate"),
        ({"plan": {"deactivate": _ids(MAX_STRATEGIES + 1)}}, "plan.deactivate"),
        ({"plan": {}, "weights": dict.fromkeys(_ids(MAX_STRATEGIES + 1), 0.5)}, "weights"),
        ({"plan": {}, "gating_policy": {"x": "y" * MAX_FREEFORM_JSON_BYTES}}, "gating_policy"),
    ],
    ids=["activate", "deactivate", "weights", "gating-policy"],
)
def test_apply__over_a_limit__400_no_run_no_lock(api, body, field):
    before = _stored()

    response = _post(api, "/worlds/alpha/apply", {"run_id": "r1", **body})

    _refused(response, field)
    assert _stored() == before


def test_apply__plan_leaving_too_many_active__400_no_run(api):
    WorldDecisions.objects.create(world_id="alpha", strategies=_ids(MAX_STRATEGIES))
    before = _stored()

    response = _post(api, "/worlds/alpha/apply", {"run_id": "r1", "plan": {"activate": ["new"]}})

    _refused(response, "plan.activate")
    assert _stored() == before


# --- activation -----------------------------------------------------------------------------


def test_activation_put__world_set_full__new_entry_400_existing_entry_updated(api, settings):
    # Filling the set sends 40,000 entries in one write; on a loaded CI host that can take
    # longer than the production write deadline, which is not what this test is about.
    settings.WORLDSERVICE = {**settings.WORLDSERVICE, "REDIS_TIMEOUT_SECONDS": 10.0}
    store = get_store()
    store.initialize("alpha")
    half = MAX_ACTIVATION_ENTRIES // 2
    entry = {"active": False, "weight": 0.0}
    changes = {(s, side): dict(entry) for s in _ids(half) for side in ("long", "short")}
    version = store.write_many("alpha", changes)
    before = _stored()

    refused = api.put(
        "/worlds/alpha/activation",
        {"strategy_id": "one-more", "side": "long", "active": True},
        format="json",
    )

    _refused(refused, "strategy_id")
    assert _stored() == before
    assert store.version("alpha") == version
    updated = api.put(
        "/worlds/alpha/activation",
        {"strategy_id": "s000000", "side": "long", "active": True},
        format="json",
    )
    assert updated.status_code == 200


# --- worlds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "field"), [([f"l{i}" for i in range(33)], "labels"), (["x" * 65], "labels[0]")]
)
def test_world_labels__over_a_limit__400_and_nothing_stored(api, labels, field):
    before = _stored()

    response = api.post("/worlds", {"id": "w9", "name": "x", "labels": labels}, format="json")

    _refused(response, field)
    assert _stored() == before


# --- rebalancing and allocations ---------------------------------------------------------


def _plan_body(**changes):
    body = {
        "total_equity": 1000.0,
        "world_alloc_before": {"alpha": 0.5},
        "world_alloc_after": {"alpha": 0.5},
        "positions": [],
    }
    body.update(changes)
    return body


def _position(index: int) -> dict:
    return {"world_id": "alpha", "strategy_id": "s", "symbol": f"X{index}", "qty": 1, "mark": 1}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"positions": [_position(i) for i in range(MAX_POSITIONS + 1)]}, "positions"),
        (
            {"world_alloc_after": {f"w{i}": 0.0 for i in range(MAX_WORLDS_PER_REQUEST + 1)}},
            "world_alloc_after",
        ),
        (
            {"lot_size_by_symbol": {f"X{i}": 1.0 for i in range(MAX_SYMBOLS + 1)}},
            "lot_size_by_symbol",
        ),
        (
            {"realized_returns_by_world": {"alpha": [0.01] * (MAX_SERIES_POINTS + 1)}},
            "realized_returns_by_world.alpha",
        ),
        (
            {"rebalance_intent": {"meta": {"x": "y" * MAX_FREEFORM_JSON_BYTES}}},
            "rebalance_intent.meta",
        ),
    ],
    ids=["positions", "worlds", "symbols", "returns", "intent-meta"],
)
@pytest.mark.parametrize("path", ["/rebalancing/plan", "/rebalancing/apply"])
def test_rebalancing__over_a_limit__400_and_nothing_stored(api, path, changes, field):
    before = _stored()

    response = _post(api, path, _plan_body(**changes))

    _refused(response, field)
    assert _stored() == before


def test_allocations__too_many_worlds__400_and_nothing_stored(api):
    before = _stored()
    allocations = {f"w{i}": 0.0 for i in range(MAX_WORLDS_PER_REQUEST + 1)}

    response = _post(
        api,
        "/allocations",
        {"run_id": "r1", "total_equity": 1.0, "world_allocations": allocations, "positions": []},
    )

    _refused(response, "world_allocations")
    assert _stored() == before
