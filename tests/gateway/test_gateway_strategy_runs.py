"""A strategy's evaluation runs, read from the runs evaluate records.

See docs/contract.md#what-the-existing-gateway-sends.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from policies.models import EvaluatedStrategy, EvaluationRun
from policies.services.evaluations import EvaluationRequest, fail_evaluation, request_evaluation
from policies.services.uploads import PolicySource, upload_policy
from tests.factories import make_world
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = pytest.mark.django_db

POLICY = "selection:\n  gates: ['sharpe >= 0.6']\n"
METRICS = {"s1": {"sharpe": 1.2, "max_drawdown": 0.1}, "s2": {"sharpe": 0.2}}
T1, T2 = "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"
RUNS = "/worlds/ev/strategies/{sid}/runs"


@pytest.fixture
def world(owner):
    made = make_world(owner=owner, world_id="ev", approvals_required=0)
    upload_policy(actor=owner, world_id="ev", source=PolicySource(text=POLICY))
    return made


@pytest.fixture
def operator(world, user_factory):
    user = user_factory(username="opal")
    grant_role(world=world, user=user, role=Role.OPERATOR)
    return user


@pytest.fixture
def client(operator, client_for):
    return client_for(operator)


def _evaluate(client, run_id, metrics=METRICS, **extra):
    body = {"metrics": metrics, "run_id": run_id, "as_of": T1, "stage": "backtest", **extra}
    response = client.post("/worlds/ev/evaluate", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _get(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.content
    return response.json()


def _runs(sid):
    return RUNS.format(sid=quote(sid, safe=""))


def _post_history(client, *, fingerprint="fp-1", as_of=T1, strategy_id="s1"):
    body = {
        "strategy_id": strategy_id,
        "node_id": "n1",
        "interval": 60,
        "rows": 100,
        "coverage_bounds": [1, 2],
        "dataset_fingerprint": fingerprint,
        "as_of": as_of,
        "execution_domain": "backtest",
    }
    assert client.post("/worlds/ev/history", body, format="json").status_code == 204


# --- list ------------------------------------------------------------------------------------


def test_runs__newest_first__each_the_strategys_part(client):
    _evaluate(client, "eval-1")
    _evaluate(client, "eval-2", as_of=T2)

    page = _get(client, _runs("s1"))

    assert [run["run_id"] for run in page["results"]] == ["eval-2", "eval-1"]
    assert page["next"] is None
    newest = page["results"][0]
    assert (newest["strategy_id"], newest["status"], newest["as_of"]) == ("s1", "pass", T2)


def test_runs__only_those_that_evaluated_the_strategy(client):
    _evaluate(client, "eval-1")
    _evaluate(client, "eval-2", metrics={**METRICS, "s3": {"sharpe": 2.0}})

    listed = _get(client, _runs("s3"))["results"]

    assert [run["run_id"] for run in listed] == ["eval-2"]


def test_runs__strategy_never_evaluated__empty_page(client):
    _evaluate(client, "eval-1")

    assert _get(client, _runs("never")) == {"results": [], "next": None}


def test_runs__cursor_pages_newest_first(client):
    for n in range(5):
        _evaluate(client, f"eval-{n}")

    first = _get(client, _runs("s1") + "?limit=2")
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    pages = [first, second, third]
    assert [[run["run_id"] for run in page["results"]] for page in pages] == [
        ["eval-4", "eval-3"],
        ["eval-2", "eval-1"],
        ["eval-0"],
    ]
    assert third["next"] is None


def test_runs__bad_cursor__400(client):
    assert client.get(_runs("s1") + "?cursor=nonsense").status_code == 400


# --- one run ---------------------------------------------------------------------------------


def test_run__the_strategys_part_with_gates_policy_as_of_and_stage(client):
    _evaluate(client, "eval-1")

    run = _get(client, _runs("s1") + "/eval-1")

    assert run["world_id"] == "ev"
    assert (run["run_id"], run["evaluation_run_id"], run["run_status"]) == (
        "eval-1",
        "eval-1",
        "completed",
    )
    _assert_passing_part(run)
    assert run["policy_version"] == 1
    assert (run["as_of"], run["stage"]) == (T1, "backtest")
    assert run["created_at"] and run["updated_at"] == run["completed_at"]
    assert run["run_error"] is None
    assert "error" not in run  # the existing SDK reads a top-level `error` as a failed request


def _assert_passing_part(run):
    assert run["status"] == "pass"
    assert run["summary"] == {"status": "pass"}
    assert run["gates"] == [{"rule": "sharpe >= 0.6", "value": 1.2, "passed": True}]
    assert run["weight"] == 1.0
    assert (run["active"], run["selected"], run["side"]) == (True, True, "long")
    assert run["metrics"] == {"sharpe": 1.2, "max_drawdown": 0.1}


def test_run__failing_strategy__status_fail_not_active(client):
    _evaluate(client, "eval-1")

    run = _get(client, _runs("s2") + "/eval-1")

    assert (run["status"], run["active"], run["weight"]) == ("fail", False, None)
    assert run["gates"] == [{"rule": "sharpe >= 0.6", "value": 0.2, "passed": False}]
    assert "gates_fail" in run["reasons"]


def test_run__unknown_run__404(client):
    _evaluate(client, "eval-1")

    problem = _get(client, _runs("s1") + "/eval-9", status=404)

    assert problem["code"] == "not_found"
    assert "'eval-9'" in problem["detail"]


@pytest.mark.parametrize("suffix", ["", "/metrics", "/history"])
def test_run__run_that_did_not_evaluate_the_strategy__404(client, suffix):
    _evaluate(client, "eval-1")

    assert client.get(_runs("s3") + "/eval-1" + suffix).status_code == 404


def test_run__pending__no_outcome_yet(world, operator, client):
    request_evaluation(
        actor=operator,
        world_id="ev",
        request=EvaluationRequest(metrics=METRICS, run_id="eval-p", stage="paper"),
    )

    run = _get(client, _runs("s1") + "/eval-p")
    history = _get(client, _runs("s1") + "/eval-p/history")

    assert run["run_status"] == "pending"
    # Nothing the existing SDK takes for "ready" (`summary.status`, `metrics`) before completion.
    assert (run["status"], run["summary"], run["metrics"]) == (None, {"status": None}, None)
    assert run["gates"] == []
    assert _get(client, _runs("s1") + "/eval-p/metrics")["metrics"] == METRICS["s1"]
    assert (run["active"], run["completed_at"], run["stage"]) == (None, None, "paper")
    assert _get(client, _runs("s1"))["results"][0]["run_id"] == "eval-p"
    assert (history["history_status"], history["entry"]) == ("not_recorded", None)


def test_run__failed__summary_failed_with_its_error(world, operator, client):
    pending = request_evaluation(
        actor=operator, world_id="ev", request=EvaluationRequest(metrics=METRICS, run_id="bad")
    )
    fail_evaluation(pending.pk, "the engine crashed")

    run = _get(client, _runs("s1") + "/bad")

    assert (run["run_status"], run["status"]) == ("failed", None)
    assert run["summary"] == {"status": "failed"}
    assert run["run_error"] == "the engine crashed"


def test_run__previously_active_strategy_without_metrics__listed_metrics_null(client):
    _evaluate(client, "eval-1", previous=["s9"])

    run = _get(client, _runs("s9") + "/eval-1")
    inputs = _get(client, _runs("s9") + "/eval-1/metrics")

    assert "metrics_absent" in run["reasons"]
    assert (run["metrics"], inputs["metrics"]) == (None, None)
    assert [r["run_id"] for r in _get(client, _runs("s9"))["results"]] == ["eval-1"]


@pytest.mark.parametrize("strategy_id", ["123", 'x."y$', "sharpe"])
def test_run__any_strategy_id__its_own_part(client, strategy_id):
    metrics = {strategy_id: {"sharpe": 0.9}, "other": {"sharpe": 0.1}}
    _evaluate(client, "eval-1", metrics=metrics)

    run = _get(client, _runs(strategy_id) + "/eval-1")
    inputs = _get(client, _runs(strategy_id) + "/eval-1/metrics")

    assert run["strategy_id"] == strategy_id
    assert run["gates"] == [{"rule": "sharpe >= 0.6", "value": 0.9, "passed": True}]
    assert inputs["metrics"] == {"sharpe": 0.9}


# --- metrics ---------------------------------------------------------------------------------


def test_metrics__as_sent_with_side_and_series(client):
    # NaN is a token JSON allows only here (evaluate's metrics): sent raw, it reads as missing.
    raw = (
        '{"metrics": {"s1": {"sharpe": 1.2, "side": "short", "win_rate": NaN}}, '
        '"series": {"s1": {"returns": [0.01, -0.02]}}, "run_id": "eval-1", '
        f'"as_of": "{T1}"}}'
    )
    response = client.post("/worlds/ev/evaluate", raw, content_type="application/json")
    assert response.status_code == 200, response.content

    inputs = _get(client, _runs("s1") + "/eval-1/metrics")

    assert inputs["side"] == "short"
    assert inputs["metrics"] == {"sharpe": 1.2, "win_rate": "NaN"}
    assert inputs["series"] == {"returns": [0.01, -0.02]}
    assert (inputs["policy_version"], inputs["as_of"], inputs["stage"]) == (1, T1, None)


def test_metrics__default_side_long(client):
    _evaluate(client, "eval-1")

    inputs = _get(client, _runs("s1") + "/eval-1/metrics")

    assert (inputs["side"], inputs["metrics"], inputs["series"]) == (
        "long",
        {"sharpe": 1.2, "max_drawdown": 0.1},
        None,
    )


# --- history ---------------------------------------------------------------------------------


def test_history__the_entry_the_run_used(client):
    _post_history(client, fingerprint="fp-1")
    _evaluate(client, "eval-1")

    used = _get(client, _runs("s1") + "/eval-1/history")

    assert used["history_status"] == "recorded"
    entry = used["entry"]
    assert (entry["dataset_fingerprint"], entry["coverage_bounds"]) == ("fp-1", [1, 2])
    assert (entry["as_of"], entry["execution_domain"]) == (T1, "backtest")


def test_history__later_report__the_run_keeps_what_it_used(client):
    _post_history(client, fingerprint="fp-1")
    _evaluate(client, "eval-1")
    _post_history(client, fingerprint="fp-2")  # replaces the entry in place

    used = _get(client, _runs("s1") + "/eval-1/history")

    assert used["entry"]["dataset_fingerprint"] == "fp-1"
    latest = client.get("/worlds/ev/history").json()["latest"]
    assert latest["dataset_fingerprint"] == "fp-2"


def test_history__entry_reported_for_a_later_moment__none(client):
    _post_history(client, as_of=T2)  # after the run's as_of: not available to it
    _evaluate(client, "eval-1")

    used = _get(client, _runs("s1") + "/eval-1/history")

    assert (used["history_status"], used["entry"]) == ("none", None)


def test_history__strategy_without_entry__none(client):
    _post_history(client, strategy_id="s2")
    _evaluate(client, "eval-1")

    assert _get(client, _runs("s1") + "/eval-1/history")["history_status"] == "none"
    assert _get(client, _runs("s2") + "/eval-1/history")["history_status"] == "recorded"


def test_history__run_from_before_copies_were_kept__not_recorded(client):
    _post_history(client)
    _evaluate(client, "eval-1")
    EvaluationRun.objects.filter(run_id="eval-1").update(history_snapshot=None)

    used = _get(client, _runs("s1") + "/eval-1/history")

    assert (used["history_status"], used["entry"]) == ("not_recorded", None)


# --- who may read ----------------------------------------------------------------------------


ROUTES = ["", "/eval-1", "/eval-1/metrics", "/eval-1/history"]


@pytest.mark.parametrize("suffix", ROUTES)
@pytest.mark.parametrize(("role", "expected"), [("none", 404), ("reader", 200)])
def test_routes__roles(client, user_factory, world, client_for, suffix, role, expected):
    _evaluate(client, "eval-1")
    user = user_factory()
    if role == "reader":
        grant_role(world=world, user=user, role=Role.READER)

    response = client_for(user).get(_runs("s1") + suffix)

    assert response.status_code == expected, response.content
    if expected == 404:
        assert "'ev'" in response.json()["detail"]  # the world, not the run


@pytest.mark.parametrize("suffix", ROUTES)
def test_routes__no_credential__401(client, client_for, suffix):
    _evaluate(client, "eval-1")

    assert client_for(None).get(_runs("s1") + suffix).status_code == 401


@pytest.mark.parametrize("suffix", ROUTES)
def test_routes__writes__405_even_for_the_owner(client, owner, client_for, suffix):
    _evaluate(client, "eval-1")

    response = client_for(owner).post(_runs("s1") + suffix, {}, format="json")

    assert response.status_code == 405


# --- the index --------------------------------------------------------------------------------


def test_index__a_replayed_run_id_adds_nothing(client):
    _evaluate(client, "eval-1")
    _evaluate(client, "eval-1")  # same run id, same body: the recorded run

    assert EvaluatedStrategy.objects.filter(run__run_id="eval-1").count() == 2
    assert len(_get(client, _runs("s1"))["results"]) == 1
