"""The answers once sent as bare objects match the shapes docs/openapi.yaml now gives them
(docs/api.md, "What the schema promises"): apply runs, allocations, evaluation runs, members
and a strategy's runs, each rendered by the serializer that also describes it."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from rest_framework.test import APIClient

from policies.services.evaluations import EvaluationRequest, fail_evaluation, request_evaluation
from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world
from tests.worlds.test_openapi_tells_the_truth import COMPONENTS

pytestmark = pytest.mark.django_db

POLICY = "selection:\n  gates: ['sharpe >= 0.6']\n"
METRICS = {"s1": {"sharpe": 2, "max_drawdown": 0.1}, "s2": {"sharpe": 0.2, "side": "short"}}


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 as JSON Schema: a `nullable` node also admits null (whether it has a `type`
    or is an `allOf`/`oneOf` of references, as a nullable nested serializer is)."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if isinstance(converted.get("$ref"), str):
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


DEFS = _as_json_schema(COMPONENTS)


def _matches(value: Any, component: str) -> bool:
    schema = {"$ref": f"#/$defs/{component}", "$defs": DEFS}
    return jsonschema.Draft202012Validator(schema).is_valid(value)


@pytest.fixture
def owner_client(owner: Any, client_for: Any) -> APIClient:
    make_world(owner=owner, world_id="alpha", approvals_required=0)
    upload_policy(actor=owner, world_id="alpha", source=PolicySource(text=POLICY))
    client: APIClient = client_for(owner)
    return client


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return response.json()


def test_apply_runs__match_their_components(owner_client):
    body = {"run_id": "a-1", "plan": {"activate": ["s1"], "deactivate": []}}
    outcome = _ok(owner_client.post("/worlds/alpha/apply", body, format="json"))
    run = _ok(owner_client.get("/worlds/alpha/apply/a-1"))
    page = _ok(owner_client.get("/worlds/alpha/apply"))

    assert _matches(outcome, "ApplyOutcomeOut")
    assert _matches(run, "ApplyRunOut")
    assert run["stages"] and run["error"] is None
    assert _matches(page, "ApplyRunPage")
    assert page["results"] == [run]
    assert not _matches({**run, "surprise": 1}, "ApplyRunOut")


def test_allocations__match_their_component(owner_client):
    body = {"run_id": "al-1", "total_equity": 1000, "world_allocations": {"alpha": 1.0}}
    _ok(owner_client.post("/allocations", {**body, "positions": []}, format="json"))
    answer = _ok(owner_client.get("/allocations"))

    assert _matches(answer, "AllocationsOut")
    assert answer["allocations"]["alpha"]["strategy_alloc_total"] is None
    assert not _matches({"allocations": {"alpha": {"world_id": "alpha"}}}, "AllocationsOut")


def test_evaluation_runs__completed_and_failed__match_their_component(owner, owner_client):
    body = {"run_id": "e-1", "metrics": METRICS, "stage": "backtest"}
    completed = _ok(owner_client.post("/worlds/alpha/evaluate", body, format="json"))
    pending = request_evaluation(
        actor=owner,
        world_id="alpha",
        request=EvaluationRequest(metrics={"s3": {"sharpe": 1}}, run_id="e-2"),
    )
    fail_evaluation(pending.pk, "boom")
    failed = _ok(owner_client.get("/worlds/alpha/evaluations/e-2"))
    page = _ok(owner_client.get("/worlds/alpha/evaluations"))

    assert completed["status"] == "completed" and _matches(completed, "EvaluationRunOut")
    assert (failed["status"], failed["error"]) == ("failed", "boom")
    assert _matches(failed, "EvaluationRunOut")
    assert _matches(page, "EvaluationRunPage")
    assert [run["evaluation_run_id"] for run in page["results"]] == ["e-1", "e-2"]


def test_members__match_their_component(owner_client):
    UserFactory(username="rita")
    put = _ok(owner_client.put("/worlds/alpha/members/rita", {"role": "reader"}, format="json"))
    listed = _ok(owner_client.get("/worlds/alpha/members"))

    assert put == {"user": "rita", "role": "reader"}
    assert _matches(put, "MemberOut")
    assert put in listed
    assert not _matches({**put, "user": None}, "MemberOut")
    assert all(_matches(member, "MemberOut") for member in listed)


@pytest.mark.parametrize("strategy_id", ["s1", "s2"])
def test_strategy_runs__match_their_components(owner_client, strategy_id):
    history = {
        "strategy_id": "s1",
        "node_id": "n1",
        "interval": 60,
        "rows": 100,
        "coverage_bounds": [1, 2],
        "dataset_fingerprint": "fp-1",
        "as_of": "2025-01-01T00:00:00Z",
        "execution_domain": "backtest",
    }
    assert owner_client.post("/worlds/alpha/history", history, format="json").status_code == 204
    body = {"run_id": "e-1", "metrics": METRICS, "stage": "backtest"}
    _ok(owner_client.post("/worlds/alpha/evaluate", body, format="json"))
    runs = f"/worlds/alpha/strategies/{strategy_id}/runs"

    page = _ok(owner_client.get(runs))
    assert _matches(page, "StrategyRunPage")
    assert [run["run_id"] for run in page["results"]] == ["e-1"]
    assert _matches(_ok(owner_client.get(f"{runs}/e-1")), "StrategyRunOut")
    assert _matches(_ok(owner_client.get(f"{runs}/e-1/metrics")), "StrategyRunMetricsOut")
    used = _ok(owner_client.get(f"{runs}/e-1/history"))
    assert _matches(used, "StrategyRunHistoryOut")
    assert used["history_status"] == ("recorded" if strategy_id == "s1" else "none")
