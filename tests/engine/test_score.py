"""Step 4: score expressions, weighted sums, the fallback, and domain errors."""

from __future__ import annotations

import math

import pytest

from policies.dsl.model import (
    BinaryOp,
    Call,
    Expr,
    ExpressionScore,
    MetricRef,
    Negate,
    Number,
    WeightedScore,
)
from policies.engine import result as codes
from tests.engine.helpers import all_of, policy, run


def expr_score(expr: Expr) -> ExpressionScore:
    return ExpressionScore(expr=expr, source="test")


def score_of(expr: Expr, metrics: dict[str, object]) -> float | None:
    return run(policy(score=expr_score(expr)), {"s1": metrics}).strategies["s1"].score


def m(name: str) -> MetricRef:
    return MetricRef(name)


def test_score__spec_expression__arithmetic() -> None:
    # Given sharpe + 0.1 * win_rate - 0.2 * ulcer
    expr = BinaryOp(
        "-",
        BinaryOp("+", m("sharpe"), BinaryOp("*", Number(0.1), m("win_rate"))),
        BinaryOp("*", Number(0.2), m("ulcer")),
    )

    score = score_of(expr, {"sharpe": 1.0, "win_rate": 0.5, "ulcer": 0.25})

    assert score == pytest.approx(1.0 + 0.05 - 0.05)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (Negate(m("x")), -4.0),
        (BinaryOp("/", m("x"), Number(8)), 0.5),
        (Call("abs", (Negate(m("x")),)), 4.0),
        (Call("min", (m("x"), Number(1), Number(3))), 1.0),
        (Call("max", (m("x"), Number(1), Number(3))), 4.0),
        (Call("sqrt", (m("x"),)), 2.0),
        (Call("log", (m("x"),)), math.log(4.0)),
    ],
)
def test_score__operators_and_functions__value(expr: Expr, expected: float) -> None:
    assert score_of(expr, {"x": 4.0}) == pytest.approx(expected)


@pytest.mark.parametrize(
    "expr",
    [
        BinaryOp("/", Number(1), m("zero")),
        Call("log", (m("zero"),)),
        Call("log", (m("neg"),)),
        Call("sqrt", (m("neg"),)),
        BinaryOp("*", m("big"), m("big")),  # overflow to inf
        BinaryOp("+", m("x"), m("absent")),
        Call("max", (m("x"), m("absent"))),
    ],
    ids=["div0", "log0", "log-neg", "sqrt-neg", "overflow", "missing", "max-missing"],
)
def test_score__domain_error_or_missing_metric__no_score(expr: Expr) -> None:
    score = score_of(expr, {"x": 1.0, "zero": 0.0, "neg": -1.0, "big": 1e200})

    assert score is None


def test_score__sqrt_of_zero__zero_not_missing() -> None:
    assert score_of(Call("sqrt", (m("zero"),)), {"zero": 0.0}) == 0.0


def test_score__weighted_sum__sum_of_metric_times_weight() -> None:
    pol = policy(score=WeightedScore(weights=(("sharpe", 1.0), ("win_rate", 0.1))))

    result = run(pol, {"s1": {"sharpe": 1.5, "win_rate": 0.6}, "s2": {"sharpe": 1.5}})

    assert result.strategies["s1"].score == pytest.approx(1.56)
    assert result.strategies["s2"].score is None


def test_score__no_score__first_gate_metric_ranks() -> None:
    pol = policy(gates=all_of("win_rate >= 0", "sharpe >= 0"))

    result = run(pol, {"s1": {"win_rate": 0.4, "sharpe": 3}, "s2": {"win_rate": 0.6, "sharpe": 1}})

    assert result.strategies["s1"].score == 0.4
    assert [result.strategies[s].rank for s in ("s2", "s1")] == [1, 2]


def test_score__no_score_no_gates__sharpe_ranks() -> None:
    result = run(policy(), {"s1": {"sharpe": 0.5}, "s2": {"sharpe": 0.9}})

    assert result.strategies["s2"].rank == 1
    assert result.strategies["s1"].score == 0.5


def test_score__missing__ranks_last_with_reason() -> None:
    pol = policy(score=expr_score(Call("log", (m("x"),))))

    result = run(pol, {"a": {"x": 0.0}, "b": {"x": 1.0}, "c": {"x": 2.0}})

    assert [result.strategies[s].rank for s in ("c", "b", "a")] == [1, 2, 3]
    assert codes.SCORE_MISSING in result.strategies["a"].reasons
    assert result.strategies["a"].selected  # still selected: nothing limits the count
