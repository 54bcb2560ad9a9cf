"""Compare with (a side-by-side diff) and Simulation (a what-if over recorded runs that writes
nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.models import EvaluationRun, HysteresisRecord, PolicyApproval, WorldPolicy
from policies.services.evaluations import (
    EvaluationRequest,
    carry_out_evaluation,
    request_evaluation,
)
from policies.simulation import simulate_version
from tests.admin.conftest import YAML
from worlds.models import WorldAuditLog, WorldEvent

pytestmark = pytest.mark.django_db

COMPARE = "admin:policies_worldpolicy_compare"
SIMULATION = "admin:policies_worldpolicy_simulation"
SET_DEFAULT = "admin:policies_worldpolicy_set_default"
METRICS = {"s1": {"sharpe": 0.9}, "s2": {"sharpe": 0.6}, "s3": {"sharpe": 0.2, "side": "short"}}
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _record_runs(desk, count: int) -> None:
    """`count` evaluations of the default, recorded as the API records them."""
    for hour in range(count):
        run = request_evaluation(
            actor=desk.olga.user,
            world_id="desk",
            request=EvaluationRequest(
                metrics=METRICS, as_of=START + dt.timedelta(hours=hour), run_id=f"run-{hour}"
            ),
        )
        carry_out_evaluation(run.pk)


@pytest.fixture
def history(desk):
    """Default v1 (sharpe >= 0.5) with three recorded runs, and a stricter draft v2."""
    first = desk.upload()
    desk.approve(first)
    desk.make_default(first)
    _record_runs(desk, 3)
    desk.upload(YAML.replace("0.5", "0.7") + "  topk: {total: 1}\n")
    return desk


def _counts() -> dict[str, int]:
    models = (EvaluationRun, HysteresisRecord, WorldAuditLog, WorldEvent, PolicyApproval)
    return {model.__name__: model.objects.count() for model in models}


# --- Compare with ---------------------------------------------------------------------------


def test_compare__against_the_default_by_default__side_by_side_coloured_rows(history):
    page = history.rex.get(COMPARE, "desk", 2)

    text = page.content.decode()
    assert page.status_code == 200
    assert page.context["against"] == 1
    kinds = [row.kind for row in page.context["diff"].rows]
    assert kinds == ["equal", "changed", "added"]
    assert '<tr class="diff-changed">' in text and '<tr class="diff-added">' in text
    assert "v1</th>" in text and "v2</th>" in text


def test_compare__any_other_version__chosen_with_against(history):
    history.upload(YAML.replace("0.5", "0.55"))

    page = history.rex.get(COMPARE, "desk", 3, query="?against=2")

    assert page.context["against"] == 2
    assert '<option value="2" selected>' in page.content.decode()


def test_compare__unknown_other_version__readable_404(history):
    page = history.rex.get(COMPARE, "desk", 2, query="?against=9")

    assert page.status_code == 404
    assert "has no other policy version" in page.content.decode()


# --- Simulation -----------------------------------------------------------------------------


def test_simulation__shows_promotions_demotions_weights_and_gates(history):
    page = history.rex.get(SIMULATION, "desk", 2)

    text = page.content.decode()
    simulation = page.context["simulation"]
    assert page.status_code == 200
    assert [step.run_id for step in simulation.steps] == ["run-0", "run-1", "run-2"]
    _assert_latest_step(simulation)
    assert "sharpe &gt;= 0.7 (0.6000): fails" in text
    assert "+0.5000" in text
    # the first replayed run promotes under each policy what it selects
    assert simulation.steps[0].candidate.promoted == ("s1",)
    assert simulation.steps[0].default.promoted == ("s1", "s2")


def _assert_latest_step(simulation):
    latest = simulation.latest_step
    assert latest.default.active == ("s1", "s2")
    assert latest.candidate.active == ("s1",)
    assert latest.only_default == ("s2",)
    lines = {line.strategy_id: line for line in simulation.latest}
    assert lines["s1"].weight_change == pytest.approx(0.5)  # 1/2 under v1, all of it under v2
    assert lines["s2"].candidate.effect == "stays out"
    assert [line.strategy_id for line in simulation.latest if line.differs] == ["s1", "s2"]


def test_simulation__number_of_runs__configurable_and_bounded(history):
    one = history.rex.get(SIMULATION, "desk", 2, query="?runs=1").context["simulation"]
    bad = history.rex.get(SIMULATION, "desk", 2, query="?runs=500")

    assert [step.run_id for step in one.steps] == ["run-2"]
    assert bad.status_code == 200
    assert "Ensure this value is less than or equal to 20" in bad.content.decode()
    assert bad.context["simulation"].runs_asked == 5


def test_simulation__writes_nothing(history):
    before = _counts()
    state_before = list(HysteresisRecord.objects.order_by("strategy_id").values("state"))

    with CaptureQueriesContext(connection) as queries:
        simulation_page = history.rex.get(SIMULATION, "desk", 2)
        confirmation_page = history.olga.get(SET_DEFAULT, "desk", 2)

    assert simulation_page.status_code == confirmation_page.status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "django_session" not in q["sql"]
    ]
    assert writes == []
    assert _counts() == before
    assert list(HysteresisRecord.objects.order_by("strategy_id").values("state")) == state_before


def test_simulation__no_recorded_runs__says_so(desk):
    desk.upload()

    page = desk.rex.get(SIMULATION, "desk", 1)

    assert "has no completed evaluation runs to replay yet" in page.content.decode()


def test_simulation__no_default__replays_the_version_alone(desk):
    desk.upload()
    _record_runs_without_default(desk)

    simulation = simulate_version(
        world=desk.world, policy=WorldPolicy.objects.get(version=1), runs=5
    )

    assert simulation.default_version is None
    assert simulation.latest_step.default is None
    assert simulation.latest_step.candidate.active == ("s1", "s2")


def _record_runs_without_default(desk) -> None:
    run = request_evaluation(
        actor=desk.olga.user,
        world_id="desk",
        request=EvaluationRequest(metrics=METRICS, as_of=START, policy_version=1),
    )
    carry_out_evaluation(run.pk)
