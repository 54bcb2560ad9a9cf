"""Evaluate over HTTP: plan only, recorded runs, hysteresis advancing only on the default."""

from __future__ import annotations

import pytest

from policies.models import EvaluationRun, HysteresisRecord, WorldDecisions
from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world
from worlds.models import WorldAuditLog
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = pytest.mark.django_db

POLICY = """\
selection:
  gates: ["sharpe >= 0.6"]
  hysteresis: {promote_after: 2, demote_after: 1}
"""
METRICS = {"s1": {"sharpe": 1.2, "max_drawdown": 0.1}, "s2": {"sharpe": 0.2}}


@pytest.fixture
def evaluated_world(owner):
    world = make_world(owner=owner, world_id="ev", approvals_required=0)
    upload_policy(actor=owner, world_id="ev", source=PolicySource(text=POLICY))
    return world


@pytest.fixture
def operator(evaluated_world):
    user = UserFactory(username="opal")
    grant_role(world=evaluated_world, user=user, role=Role.OPERATOR)
    return user


def _evaluate(client, **body):
    return client.post("/worlds/ev/evaluate", {"metrics": METRICS, **body}, format="json")


def test_evaluate__default_policy__explains_each_strategy(operator, client_for):
    response = _evaluate(client_for(operator), run_id="eval-1", as_of="2025-01-01T00:00:00Z")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["evaluation_run_id"] == "eval-1"
    assert body["policy_version"] == 1
    s1, s2 = body["strategies"]["s1"], body["strategies"]["s2"]
    assert s1["status"] == "pass"
    assert s1["gates"] == [{"rule": "sharpe >= 0.6", "value": 1.2, "passed": True}]
    assert s1["hysteresis"]["action"] == "HOLD"  # promote_after 2: one pass is not enough
    assert s2["status"] == "fail"
    assert body["plan"] == {"activate": [], "deactivate": []}


def test_evaluate__second_pass_with_new_as_of__promotes(operator, client_for):
    client = client_for(operator)
    _evaluate(client, as_of="2025-01-01T00:00:00Z")

    body = _evaluate(client, as_of="2025-01-02T00:00:00Z").json()

    assert body["strategies"]["s1"]["hysteresis"]["action"] == "PROMOTE"
    assert body["plan"]["activate"] == ["s1"]
    assert body["active"] == ["s1"]


def test_evaluate__same_as_of_twice__no_double_counting(operator, client_for):
    client = client_for(operator)
    _evaluate(client, as_of="2025-01-01T00:00:00Z")

    body = _evaluate(client, as_of="2025-01-01T00:00:00Z").json()

    assert body["strategies"]["s1"]["hysteresis"]["consecutive_pass"] == 1
    assert body["plan"]["activate"] == []


@pytest.mark.parametrize(
    "extra",
    [
        {"simulate": True},
        {"policy_version": 2},
        {"policy": {"selection": {"gates": ["sharpe >= 0.6"]}}},
    ],
)
def test_evaluate__draft_inline_or_simulate__hysteresis_untouched(
    owner, operator, client_for, extra
):
    upload_policy(actor=owner, world_id="ev", source=PolicySource(text=POLICY))  # v2 draft
    client = client_for(operator)

    _evaluate(client, as_of="2025-01-01T00:00:00Z", **extra)

    assert not HysteresisRecord.objects.filter(world_id="ev").exists()


def test_evaluate__plan_only__activation_and_decisions_unchanged(operator, client_for):
    client = client_for(operator)
    client.post("/worlds/ev/decisions", {"strategies": ["s2"]}, format="json")

    body = _evaluate(client, as_of="2025-01-01T00:00:00Z").json()

    assert body["plan"]["deactivate"] == ["s2"]
    assert WorldDecisions.objects.get(world_id="ev").strategies == ["s2"]


def test_evaluate__nan_metrics_are_missing(operator, client_for):
    payload = b'{"metrics": {"s1": {"sharpe": NaN}}, "as_of": "2025-01-01T00:00:00Z"}'

    response = client_for(operator).post(
        "/worlds/ev/evaluate", payload, content_type="application/json"
    )

    gate = response.json()["strategies"]["s1"]["gates"][0]
    assert gate == {"rule": "sharpe >= 0.6", "value": None, "passed": False, "missing": True}


def test_evaluate__recorded_listed_and_audited(operator, client_for):
    client = client_for(operator)
    _evaluate(client, run_id="eval-7")

    listing = client.get("/worlds/ev/evaluations").json()["results"]
    detail = client.get("/worlds/ev/evaluations/eval-7").json()

    assert [run["evaluation_run_id"] for run in listing] == ["eval-7"]
    assert detail["strategies"]["s1"]["status"] == "pass"
    assert WorldAuditLog.objects.filter(world_id="ev", event="evaluation_recorded").count() == 1
    assert client.get("/worlds/ev/evaluations/nope").status_code == 404


def test_evaluate__same_run_id_same_body__replayed(operator, client_for):
    client = client_for(operator)
    first = _evaluate(client, run_id="r1", as_of="2025-01-01T00:00:00Z").json()

    again = _evaluate(client, run_id="r1", as_of="2025-01-01T00:00:00Z")

    assert again.status_code == 200
    assert again.json() == first
    assert EvaluationRun.objects.count() == 1


def test_evaluate__same_run_id_other_body__409(operator, client_for):
    client = client_for(operator)
    _evaluate(client, run_id="r1")

    response = client.post(
        "/worlds/ev/evaluate", {"metrics": {"s9": {}}, "run_id": "r1"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "run_id_conflict"


def test_evaluate__no_default_policy__400_no_policy(owner, client_for):
    make_world(owner=owner, world_id="bare")

    response = client_for(owner).post("/worlds/bare/evaluate", {"metrics": METRICS}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "no_policy"


def test_evaluate__unknown_policy_version__404(operator, client_for):
    assert _evaluate(client_for(operator), policy_version=9).status_code == 404


@pytest.mark.parametrize(
    "body,field",
    [
        ({"metrics": {"bad id": {}}}, "metrics"),
        ({"metrics": {"s1": {"side": "up"}}}, "metrics"),
        ({"metrics": [1]}, "metrics"),
        ({"series": {"s1": {"prices": [1]}}}, "series"),
        ({"series": {"s1": {"returns": ["x"]}}}, "series"),
        ({"correlations": {"s1": 1}}, "correlations"),
        ({"correlations": [{"a": "s1", "b": "s2", "value": 0.1, "c": 1}]}, "correlations"),
        ({"policy_version": 1, "policy": {}}, "policy"),
        ({"as_of": "soon"}, "as_of"),
        ({"run_id": "white space"}, "run_id"),
        ({"unknown": 1}, "unknown"),
        ({"policy": {"selection": {"gates": ["sharpe >>= 1"]}}}, "policy"),
    ],
)
def test_evaluate__bad_input__400_nothing_recorded(operator, client_for, body, field):
    response = client_for(operator).post("/worlds/ev/evaluate", body, format="json")

    assert response.status_code == 400, response.content
    assert any(key.startswith(field) for key in response.json().get("errors", {field: 1}))
    assert not EvaluationRun.objects.exists()


def test_evaluate__reader__403(evaluated_world, client_for):
    reader = UserFactory()
    grant_role(world=evaluated_world, user=reader, role=Role.READER)

    assert _evaluate(client_for(reader)).status_code == 403


def test_evaluate__engine_crash__500_failed_run_audited(operator, client_for, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr("policies.services.evaluations.evaluate", crash)

    response = _evaluate(client_for(operator), run_id="boom")

    assert response.status_code == 500
    assert response.json()["code"] == "evaluation_failed"
    assert EvaluationRun.objects.get(run_id="boom").status == "failed"
    row = WorldAuditLog.objects.filter(world_id="ev", event="evaluation_recorded").last()
    assert row.result["status"] == "failed"
