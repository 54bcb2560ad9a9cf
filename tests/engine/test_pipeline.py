"""All steps together, the existing WorldService forms and presets, and the JSON answer."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.dsl.model import (
    Bands,
    BinaryOp,
    DataCurrency,
    ExposureConstraint,
    ExpressionScore,
    Hysteresis,
    MetricRef,
    Number,
    Policy,
    Sample,
    TopK,
)
from policies.engine import (
    EvaluationInput,
    HysteresisState,
    StrategyInput,
    build_input,
    evaluate,
)
from policies.engine import result as codes
from tests.engine.helpers import AS_OF, HOUR, all_of, any_of, metric_score, policy, run, sided

# The complete example of docs/policy-language.md#1-a-complete-example.
SPEC_EXAMPLE = policy(
    gates=all_of(
        "sharpe >= 0.6",
        "max_drawdown <= 0.25",
        any_of("win_rate >= 0.5", "profit_factor >= 1.3"),
    ),
    score=ExpressionScore(
        expr=BinaryOp(
            "-",
            BinaryOp("+", MetricRef("sharpe"), BinaryOp("*", Number(0.1), MetricRef("win_rate"))),
            BinaryOp("*", Number(0.2), MetricRef("ulcer")),
        ),
        source="sharpe + 0.1 * win_rate - 0.2 * ulcer",
    ),
    topk=TopK(total=8, by_side=(("long", 5), ("short", 3))),
    max_pairwise=0.8,
    exposure=ExposureConstraint(gross_budget=(("long", 0.6), ("short", 0.4)), max_weight=0.25),
    hysteresis=Hysteresis(
        promote_after=2,
        demote_after=2,
        min_dwell_seconds=3 * 3600,
        bands=Bands(metric="sharpe", enter=0.6, exit=0.4),
    ),
    data_currency=DataCurrency(min_history_seconds=60 * 86_400),
    sample=Sample(min_days=30, min_trades=40, min_bars=500),
)


def strategy(sharpe: float, side: str = "long", **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "side": side,
        "sharpe": sharpe,
        "max_drawdown": 0.1,
        "win_rate": 0.55,
        "profit_factor": 1.4,
        "ulcer": 0.1,
        "history_days": 90,
        "sample_days": 60,
        "n_trades_total": 100,
        "bars": 1000,
    }
    base.update(extra)
    return base


def test_evaluate__spec_example_policy__every_step_applied() -> None:
    # Given seven strategies meeting each step differently, and one active one.
    metrics = {
        "L1": strategy(1.5),
        "L2": strategy(1.4),  # correlated with L1
        "L3": strategy(1.2),
        "S1": strategy(1.1, "short"),
        "young": strategy(3.0, history_days=10),
        "thin": strategy(3.0, bars=10),
        "weak": strategy(0.5),  # fails sharpe >= 0.6
        "held": strategy(0.5, max_drawdown=0.5),  # active, fails its first time
    }
    state = {
        # L1 and S1 passed once before; L3 did not.
        "L1": HysteresisState(consecutive_pass=1, last_counted_as_of=AS_OF - HOUR),
        "S1": HysteresisState(consecutive_pass=1, last_counted_as_of=AS_OF - HOUR),
        "held": HysteresisState(
            consecutive_pass=5,
            active=True,
            last_change_at=AS_OF - 10 * HOUR,
            last_counted_as_of=AS_OF - HOUR,
        ),
    }

    result = run(
        SPEC_EXAMPLE,
        metrics,
        previous=["held"],
        state=state,
        correlations=[("L1", "L2", 0.9), ("L1", "L3", 0.5)],
    )

    s = result.strategies
    _assert_sufficiency_gates_and_ranking(s)
    _assert_hysteresis_steps(s)
    assert result.active == ("L1", "S1", "held")
    assert result.plan.activate == ("L1", "S1")
    assert result.plan.deactivate == ()
    # long budget 0.6 over L1 and held = 0.3 each, capped at 0.25; short 0.4 → capped 0.25.
    assert result.weights == {"L1": 0.25, "S1": 0.25, "held": 0.25}
    assert s["L3"].weight is None


def _assert_sufficiency_gates_and_ranking(s):
    assert s["young"].status == "insufficient" and codes.INSUFFICIENT_HISTORY in s["young"].reasons
    assert s["thin"].status == "insufficient" and codes.INSUFFICIENT_SAMPLE in s["thin"].reasons
    assert s["weak"].status == "fail"
    assert codes.CORRELATION_DROPPED in s["L2"].reasons
    assert [s[x].rank for x in ("L1", "L2", "L3", "S1")] == [1, 2, 3, 4]
    assert s["L1"].score == pytest.approx(1.5 + 0.055 - 0.02)


def _assert_hysteresis_steps(s):
    # L1 and S1 reach promote_after=2; L3 has one pass; held fails once (demote_after=2).
    assert s["L1"].hysteresis.action == "PROMOTE"
    assert s["S1"].hysteresis.action == "PROMOTE"
    assert s["L3"].hysteresis.action == "HOLD" and codes.HYSTERESIS_HOLD in s["L3"].reasons
    assert s["held"].hysteresis.action == "HOLD" and s["held"].hysteresis.consecutive_fail == 1


def test_evaluate__to_json__contract_shape_and_strict_json() -> None:
    result = run(
        policy(gates="sharpe >= 0.6", score=metric_score("sharpe")),
        {"s1": {"sharpe": 1.2, "max_drawdown": 0.1}, "s2": {"sharpe": math.nan}},
        previous=["s2"],
    )

    body = result.to_json()

    assert set(body) == {"active", "plan", "strategies", "weights"}
    assert body["active"] == ["s1"]
    assert body["plan"] == {"activate": ["s1"], "deactivate": ["s2"]}
    assert body["weights"] == {"s1": 1.0}
    assert body["strategies"]["s1"] == {
        "status": "pass",
        "side": "long",
        "score": 1.2,
        "rank": 1,
        "selected": True,
        "weight": 1.0,
        "gates": [{"rule": "sharpe >= 0.6", "value": 1.2, "passed": True}],
        "hysteresis": {
            "action": "PROMOTE",
            "consecutive_pass": 1,
            "consecutive_fail": 0,
            "dwell_seconds": 0,
        },
        "reasons": ["gates_pass", "topk_selected", "hysteresis_promote"],
    }
    assert body["strategies"]["s2"]["gates"][0] == {
        "rule": "sharpe >= 0.6",
        "value": None,
        "passed": False,
        "missing": True,
    }
    json.dumps(body, allow_nan=False)


def test_evaluate__strategy_order__inputs_then_absent_previous_by_id() -> None:
    result = run(policy(), {"b": {}, "a": {}}, previous=["z", "y"])

    assert list(result.strategies) == ["b", "a", "y", "z"]


def test_evaluate__same_arguments__same_result() -> None:
    args = {"metrics": {f"s{i}": {"sharpe": i % 3} for i in range(20)}, "previous": ["s1"]}

    first = run(SPEC_EXAMPLE, **args).to_json()  # type: ignore[arg-type]
    second = run(SPEC_EXAMPLE, **args).to_json()  # type: ignore[arg-type]

    assert first == second


# --- the existing WorldService form and presets, normalised by hand ----------------------------
# (docs/policy-language.md#6-presets and #7-the-older-form-of-policies)


def test_legacy__thresholds_min_and_max__both_bounds_and_joined() -> None:
    # thresholds: {sr: {metric: sharpe, min: 0.5, max: 3}, dd: {metric: max_drawdown, max: 0.2}}
    pol = policy(gates=all_of("sharpe >= 0.5", "sharpe <= 3", "max_drawdown <= 0.2"))

    result = run(
        pol,
        {
            "ok": {"sharpe": 1.0, "max_drawdown": 0.1},
            "too_good": {"sharpe": 4.0, "max_drawdown": 0.1},
            "deep": {"sharpe": 1.0, "max_drawdown": 0.3},
        },
    )

    assert {k: v.status for k, v in result.strategies.items()} == {
        "ok": "pass",
        "too_good": "fail",
        "deep": "fail",
    }


def test_legacy__top_k_correlation_hysteresis__same_as_new_sections() -> None:
    # top_k: {metric: sharpe, k: 2}; correlation: {max: 0.7}; hysteresis: {metric: sharpe,
    # enter: 1.0, exit: 0.8}
    pol = policy(
        score=metric_score("sharpe"),
        topk=TopK(total=2),
        max_pairwise=0.7,
        hysteresis=Hysteresis(bands=Bands(metric="sharpe", enter=1.0, exit=0.8)),
    )

    result = run(
        pol,
        {"a": {"sharpe": 1.5}, "b": {"sharpe": 1.4}, "c": {"sharpe": 0.9}},
        previous=["c"],
        correlations=[("a", "b", 0.75)],
    )

    # b is dropped by correlation; c is cut by top-k and demoted (no band counts a cut).
    assert result.active == ("a",)
    assert result.plan == type(result.plan)(activate=("a",), deactivate=("c",))


def conservative(**overrides: float) -> Policy:
    """preset: conservative (+ preset_overrides such as {"sharpe.min": 1.2})."""
    sharpe_min = overrides.get("sharpe.min", 1.0)
    return policy(
        gates=all_of(
            f"sharpe >= {sharpe_min}",
            "max_drawdown <= 0.15",
            "win_rate >= 0.55",
            "profit_factor >= 1.5",
        ),
        score=metric_score("sharpe"),
        topk=TopK(total=3),
        max_pairwise=0.5,
        hysteresis=Hysteresis(bands=Bands(metric="sharpe", enter=1.0, exit=0.8)),
    )


def good(sharpe: float) -> dict[str, object]:
    return {"sharpe": sharpe, "max_drawdown": 0.1, "win_rate": 0.6, "profit_factor": 1.6}


def test_preset__conservative__top_three_passing_by_sharpe() -> None:
    metrics = {f"s{i}": good(1.0 + i / 10) for i in range(5)}
    metrics["risky"] = {**good(5.0), "max_drawdown": 0.2}

    result = run(conservative(), metrics)

    assert result.active == ("s4", "s3", "s2")
    assert result.strategies["risky"].status == "fail"


def test_preset__conservative_with_sharpe_override__stricter_gate() -> None:
    metrics = {"a": good(1.1), "b": good(1.3)}

    assert run(conservative(**{"sharpe.min": 1.2}), metrics).active == ("b",)


def test_preset__sandbox__top_ten_by_sharpe_without_gates() -> None:
    pol = policy(score=metric_score("sharpe"), topk=TopK(total=10))
    metrics = {f"s{i:02d}": {"sharpe": float(i)} for i in range(12)}

    result = run(pol, metrics)

    assert len(result.active) == 10
    assert result.active[0] == "s11"
    assert "s00" not in result.active and "s01" not in result.active


def test_preset__aggressive__no_win_rate_gate() -> None:
    pol = policy(
        gates=all_of("sharpe >= 0.5", "max_drawdown <= 0.40", "profit_factor >= 1.0"),
        score=metric_score("sharpe"),
        topk=TopK(total=8),
        max_pairwise=0.85,
        hysteresis=Hysteresis(bands=Bands(metric="sharpe", enter=0.5, exit=0.3)),
    )

    result = run(pol, {"s1": {"sharpe": 0.6, "max_drawdown": 0.3, "profit_factor": 1.0}})

    assert result.active == ("s1",)


# --- inputs -------------------------------------------------------------------------------------


def test_build_input__side_in_metrics__taken_out_as_side() -> None:
    inputs = build_input({"s1": sided("short", sharpe=1.0)}, as_of=AS_OF)

    assert inputs.strategies["s1"] == StrategyInput(metrics={"sharpe": 1.0}, side="short")


def test_build_input__correlations_as_request_objects__read_as_pairs() -> None:
    inputs = build_input(
        {"a": {}, "b": {}},
        as_of=AS_OF,
        correlations=[{"a": "a", "b": "b", "value": 0.4}, ("b", "a", 0.5)],
    )

    assert list(inputs.correlations) == [("a", "b", 0.4), ("b", "a", 0.5)]


def test_build_input__null_side__long() -> None:
    inputs = build_input({"s1": {"side": None, "sharpe": 1.0}}, as_of=AS_OF)

    assert inputs.strategies["s1"].side == "long"


def test_build_input__bad_side__value_error() -> None:
    with pytest.raises(ValueError, match="side"):
        build_input({"s1": {"side": "flat"}}, as_of=AS_OF)


def test_build_input__series_without_metrics__strategy_evaluated_on_alpha_metrics() -> None:
    pol = policy(gates="alpha_performance.win_ratio >= 0.5")

    result = run(pol, {}, series={"s1": {"pnl": [1.0, -0.5]}})

    assert result.strategies["s1"].status == "pass"


def test_evaluation_input__naive_as_of__value_error() -> None:
    with pytest.raises(ValueError, match="timezone"):
        EvaluationInput(strategies={}, as_of=datetime(2025, 1, 1))  # noqa: DTZ001


def test_hysteresis_state__dict_round_trip__equal() -> None:
    state = HysteresisState(
        consecutive_pass=2,
        consecutive_fail=0,
        active=True,
        last_change_at=AS_OF.astimezone(timezone(timedelta(hours=2))),
        last_counted_as_of=AS_OF,
    )

    assert HysteresisState.from_dict(json.loads(json.dumps(state.to_dict()))) == state


# --- plan invariants over random worlds ---------------------------------------------------------

ids = st.sampled_from([f"s{i}" for i in range(8)])


@settings(max_examples=150, deadline=None)
@given(
    sharpes=st.dictionaries(ids, st.floats(-1, 3) | st.none()),
    previous=st.sets(ids),
    total=st.none() | st.integers(0, 4),
    corr=st.lists(st.tuples(ids, ids, st.floats(-1, 1)), max_size=10),
)
def test_evaluate__random_worlds__plan_turns_previous_into_active(
    sharpes: dict[str, float | None],
    previous: set[str],
    total: int | None,
    corr: list[tuple[str, str, float]],
) -> None:
    pol = policy(
        gates="sharpe >= 0.5",
        score=metric_score("sharpe"),
        topk=TopK(total=total),
        max_pairwise=0.6,
        hysteresis=Hysteresis(promote_after=1, demote_after=2),
    )
    inputs = EvaluationInput(
        strategies={k: StrategyInput(metrics={"sharpe": v}) for k, v in sharpes.items()},
        as_of=AS_OF,
        correlations=corr,
        previous=frozenset(previous),
    )

    result = evaluate(pol, inputs, {}, advance_state=True)

    active = set(result.active)
    _assert_plan_turns_previous_into_active(result, previous, active)
    selected = {k for k, v in result.strategies.items() if v.selected}
    assert selected <= active  # promote_after 1, no bands: every selected one is promoted
    if total is not None:
        assert len(selected) <= total


def _assert_plan_turns_previous_into_active(result, previous, active):
    assert len(active) == len(result.active)
    assert (previous - set(result.plan.deactivate)) | set(result.plan.activate) == active
    assert not set(result.plan.activate) & previous
    assert set(result.plan.deactivate) <= previous
    assert set(result.weights) == active
    assert math.fsum(result.weights.values()) <= 1.0 + 1e-9
