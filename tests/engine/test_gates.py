"""Step 3, gates: the tree, missing metrics per on_missing_metric, and a differential property."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.dsl.model import AllOf, AnyOf, Comparison, Gate
from policies.engine import result as codes
from tests.engine.helpers import all_of, any_of, policy, run

MISSING_VALUES = [None, math.nan, math.inf, -math.inf, "1.0", True, False]


def test_gates__single_comparison_met__pass() -> None:
    result = run(policy(gates="sharpe >= 0.6"), {"s1": {"sharpe": 0.6}})

    s1 = result.strategies["s1"]
    assert s1.status == "pass"
    assert [g.to_json() for g in s1.gates] == [
        {"rule": "sharpe >= 0.6", "value": 0.6, "passed": True}
    ]
    assert codes.GATES_PASS in s1.reasons


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (">=", 1.0, True),
        (">=", 1.1, False),
        ("<=", 1.0, True),
        ("<=", 0.9, False),
        (">", 1.0, False),
        (">", 0.9, True),
        ("<", 1.0, False),
        ("<", 1.1, True),
        ("==", 1.0, True),
        ("==", 1.1, False),
        ("!=", 1.0, False),
        ("!=", 1.1, True),
    ],
)
def test_gates__each_operator__compares_metric_with_number(
    op: str, value: float, expected: bool
) -> None:
    # Given x = 1.0 and the gate `x <op> value`.
    result = run(policy(gates=f"x {op} {value}"), {"s1": {"x": 1.0}})

    assert result.strategies["s1"].gates[0].passed is expected
    assert result.strategies["s1"].status == ("pass" if expected else "fail")


def test_gates__and_with_one_failing__fail_and_every_comparison_reported() -> None:
    gates = all_of("sharpe >= 0.6", "max_drawdown <= 0.25", any_of("a >= 1", "b >= 1"))

    result = run(policy(gates=gates), {"s1": {"sharpe": 1.0, "max_drawdown": 0.3, "a": 2, "b": 0}})

    s1 = result.strategies["s1"]
    assert s1.status == "fail"
    assert [(g.rule, g.passed) for g in s1.gates] == [
        ("sharpe >= 0.6", True),
        ("max_drawdown <= 0.25", False),
        ("a >= 1", True),
        ("b >= 1", False),
    ]
    assert codes.GATES_FAIL in s1.reasons


def test_gates__or_with_one_passing__pass() -> None:
    gates = all_of("sharpe >= 0.6", any_of("win_rate >= 0.5", "profit_factor >= 1.3"))

    result = run(policy(gates=gates), {"s1": {"sharpe": 1, "win_rate": 0.4, "profit_factor": 2}})

    assert result.strategies["s1"].status == "pass"


def test_gates__no_gates__pass() -> None:
    result = run(policy(), {"s1": {}})

    assert result.strategies["s1"].status == "pass"
    assert result.strategies["s1"].gates == ()


def test_gates__empty_and_or__and_passes_or_fails() -> None:
    assert run(policy(gates=AllOf(())), {"s1": {}}).strategies["s1"].status == "pass"
    assert run(policy(gates=AnyOf(())), {"s1": {}}).strategies["s1"].status == "fail"


@pytest.mark.parametrize("raw", MISSING_VALUES, ids=repr)
def test_gates__missing_metric_on_missing_fail__gate_fails_reported_missing(raw: object) -> None:
    # Given NaN used to pass every threshold in the old service: now it is missing.
    result = run(policy(gates="sharpe >= 0.6", on_missing="fail"), {"s1": {"sharpe": raw}})

    s1 = result.strategies["s1"]
    assert s1.status == "fail"
    assert s1.gates[0].to_json() == {
        "rule": "sharpe >= 0.6",
        "value": None,
        "passed": False,
        "missing": True,
    }
    assert codes.METRIC_MISSING in s1.reasons


@pytest.mark.parametrize("raw", MISSING_VALUES, ids=repr)
def test_gates__missing_metric_on_missing_warn__passes_reported_missing(raw: object) -> None:
    result = run(policy(gates="sharpe >= 0.6", on_missing="warn"), {"s1": {"sharpe": raw}})

    s1 = result.strategies["s1"]
    assert s1.status == "pass"
    assert s1.gates[0].to_json() == {
        "rule": "sharpe >= 0.6",
        "value": None,
        "passed": True,
        "missing": True,
    }
    assert codes.METRIC_MISSING in s1.reasons


def test_gates__absent_metric_on_missing_ignore__passes_not_reported() -> None:
    result = run(policy(gates="sharpe >= 0.6", on_missing="ignore"), {"s1": {}})

    s1 = result.strategies["s1"]
    assert s1.status == "pass"
    assert s1.gates[0].to_json() == {"rule": "sharpe >= 0.6", "value": None, "passed": True}
    assert codes.METRIC_MISSING not in s1.reasons


def test_gates__missing_metric_inside_or__other_branch_decides() -> None:
    # Given on_missing fail: the missing branch fails, the other one carries the or.
    gates = any_of("a >= 1", "b >= 1")

    assert run(policy(gates=gates), {"s1": {"b": 2}}).strategies["s1"].status == "pass"
    assert run(policy(gates=gates), {"s1": {"b": 0}}).strategies["s1"].status == "fail"


def test_gates__nested_metric_dotted_and_leaf__both_resolve() -> None:
    gates = all_of("returns.sharpe >= 1", "ulcer <= 0.2")

    result = run(policy(gates=gates), {"s1": {"returns": {"sharpe": 1.5}, "risk": {"ulcer": 0.1}}})

    assert result.strategies["s1"].status == "pass"
    assert [g.value for g in result.strategies["s1"].gates] == [1.5, 0.1]


def test_gates__alpha_performance_from_series__usable_in_gates() -> None:
    # Given only a return series: its alpha_performance keys are merged into the metrics.
    pol = policy(gates=all_of("alpha_performance.win_ratio >= 0.5", "alpha_performance.sharpe > 0"))

    result = run(pol, {"s1": {}}, series={"s1": {"returns": [0.1, -0.05, 0.02, -0.03]}})

    assert result.strategies["s1"].status == "pass"
    assert result.strategies["s1"].gates[0].value == 0.5


# --- differential property: the engine agrees with a deliberately naive evaluator --------------

METRIC_NAMES = ["a", "b", "c", "d"]
OPS = [">=", "<=", ">", "<", "==", "!="]


def naive_value(metrics: dict[str, Any], name: str) -> float | None:
    if name not in metrics:
        return None
    value = metrics[name]
    if type(value) not in (int, float):
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return float(value)


def naive_compare(value: float, op: str, threshold: float) -> bool:
    if op == ">=":
        return value >= threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    if op == "<":
        return value < threshold
    if op == "==":
        return value == threshold
    return value != threshold


def naive_gate(gate: Gate, metrics: dict[str, Any], on_missing: str) -> bool:
    if isinstance(gate, Comparison):
        value = naive_value(metrics, gate.metric)
        if value is None:
            return on_missing != "fail"
        return naive_compare(value, gate.op, gate.value)
    results = [naive_gate(child, metrics, on_missing) for child in gate.children]
    if isinstance(gate, AllOf):
        return all(results)
    return any(results)


def naive_leaves(gate: Gate) -> list[Comparison]:
    if isinstance(gate, Comparison):
        return [gate]
    return [leaf for child in gate.children for leaf in naive_leaves(child)]


thresholds = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.5])
comparisons = st.builds(
    Comparison, metric=st.sampled_from(METRIC_NAMES), op=st.sampled_from(OPS), value=thresholds
)
gate_trees: st.SearchStrategy[Gate] = st.recursive(
    comparisons,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda xs: AllOf(tuple(xs))),
        st.lists(children, max_size=3).map(lambda xs: AnyOf(tuple(xs))),
    ),
    max_leaves=8,
)
metric_values = st.one_of(
    thresholds,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-3, max_value=3),
    st.none(),
    st.text(max_size=3),
    st.booleans(),
)
metric_maps = st.dictionaries(st.sampled_from(METRIC_NAMES), metric_values)


@settings(max_examples=400, deadline=None)
@given(gate=gate_trees, metrics=metric_maps, on_missing=st.sampled_from(["fail", "warn", "ignore"]))
def test_gates__random_trees_and_metrics__agree_with_naive_evaluator(
    gate: Gate, metrics: dict[str, Any], on_missing: str
) -> None:
    result = run(policy(gates=gate, on_missing=on_missing), {"s1": metrics})

    s1 = result.strategies["s1"]
    expected = naive_gate(gate, metrics, on_missing)
    assert s1.status == ("pass" if expected else "fail")
    leaves = naive_leaves(gate)
    assert [g.rule for g in s1.gates] == [str(leaf) for leaf in leaves]
    for row, leaf in zip(s1.gates, leaves, strict=True):
        value = naive_value(metrics, leaf.metric)
        assert row.value == value
        if value is None:
            assert row.passed is (on_missing != "fail")
            assert row.missing is (on_missing != "ignore")
        else:
            assert row.passed is naive_compare(value, leaf.op, leaf.value)
            assert row.missing is False
