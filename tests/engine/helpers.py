"""Small builders for engine tests: Policies straight from the dataclasses (no parser)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import cast

from policies.dsl.model import (
    AllOf,
    AnyOf,
    Comparison,
    ComparisonOp,
    Constraints,
    CorrelationConstraint,
    ExposureConstraint,
    ExpressionScore,
    Gate,
    Hysteresis,
    MetricRef,
    Policy,
    Score,
    Selection,
    Side,
    TopK,
    Validation,
)
from policies.engine import (
    CorrelationPair,
    EvaluationResult,
    HysteresisState,
    Series,
    build_input,
    evaluate,
)

AS_OF = datetime(2025, 8, 28, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def cmp(text: str) -> Comparison:
    """`"sharpe >= 0.6"` → Comparison (test-only, whitespace separated)."""
    metric, op, value = text.split()
    return Comparison(metric=metric, op=cast(ComparisonOp, op), value=float(value))


def all_of(*children: Gate | str) -> AllOf:
    return AllOf(tuple(cmp(c) if isinstance(c, str) else c for c in children))


def any_of(*children: Gate | str) -> AnyOf:
    return AnyOf(tuple(cmp(c) if isinstance(c, str) else c for c in children))


def metric_score(name: str) -> ExpressionScore:
    return ExpressionScore(expr=MetricRef(name), source=name)


def policy(
    *,
    gates: Gate | str | None = None,
    score: Score | None = None,
    topk: TopK | None = None,
    max_pairwise: float | None = None,
    exposure: ExposureConstraint | None = None,
    hysteresis: Hysteresis | None = None,
    on_missing: str = "fail",
    **sections: object,
) -> Policy:
    """A Policy with the given selection parts; `sections` passes data_currency/sample through."""
    gate = cmp(gates) if isinstance(gates, str) else gates
    correlation = CorrelationConstraint(max_pairwise) if max_pairwise is not None else None
    return Policy(
        selection=Selection(
            gates=gate,
            score=score,
            topk=topk,
            constraints=Constraints(correlation=correlation, exposure=exposure),
            hysteresis=hysteresis,
        ),
        validation=Validation(on_missing_metric=on_missing),  # type: ignore[arg-type]
        **sections,  # type: ignore[arg-type]
    )


def run(
    pol: Policy,
    metrics: Mapping[str, Mapping[str, object]],
    *,
    previous: Iterable[str] = (),
    state: Mapping[str, HysteresisState] | None = None,
    as_of: datetime = AS_OF,
    correlations: Iterable[CorrelationPair] = (),
    series: Mapping[str, Series] | None = None,
    advance_state: bool = True,
) -> EvaluationResult:
    inputs = build_input(
        metrics,
        as_of=as_of,
        series=series,
        correlations=tuple(correlations),
        previous=previous,
    )
    return evaluate(pol, inputs, state or {}, advance_state=advance_state)


def sided(side: Side, **metrics: object) -> dict[str, object]:
    return {"side": side, **metrics}
