"""Before step 1: which strategies are evaluated, and the values of the metrics the policy reads.

Every strategy of `inputs.strategies` (in that order), then every strategy of `inputs.previous`
without an entry (sorted by id), evaluated on no metrics with the reason `metrics_absent`. Each
strategy's metrics are resolved once, here, into the compiled policy's slots; later stages only
index `work.values`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from policies.engine.alpha_performance import alpha_metrics_from_series
from policies.engine.compiler import CompiledPolicy
from policies.engine.inputs import EvaluationInput
from policies.engine.metrics import MetricView
from policies.engine.result import METRICS_ABSENT
from policies.engine.work import StrategyWork

_NO_METRICS: Final[Mapping[str, object]] = {}


def strategies_to_evaluate(inputs: EvaluationInput, compiled: CompiledPolicy) -> list[StrategyWork]:
    """One record per evaluated strategy, with its metric values read."""
    return [*_given(inputs, compiled), *_absent(inputs, compiled)]


def _given(inputs: EvaluationInput, compiled: CompiledPolicy) -> list[StrategyWork]:
    """The strategies the caller sent; a return series adds the `alpha_performance.*` metrics."""
    previous = inputs.previous
    works: list[StrategyWork] = []
    for strategy_id, strategy in inputs.strategies.items():
        work = StrategyWork(strategy_id, strategy.side, strategy_id in previous)
        series = strategy.series
        overlay = alpha_metrics_from_series(series) if series is not None else None
        work.values = _read(MetricView(strategy.metrics, overlay), compiled)
        works.append(work)
    return works


def _absent(inputs: EvaluationInput, compiled: CompiledPolicy) -> list[StrategyWork]:
    """Previously active strategies without an entry: their side is unknown and taken as long."""
    works: list[StrategyWork] = []
    for strategy_id in sorted(inputs.previous - inputs.strategies.keys()):
        work = StrategyWork(strategy_id, "long", was_active=True)
        work.reasons.append(METRICS_ABSENT)
        work.values = _read(MetricView(_NO_METRICS), compiled)
        works.append(work)
    return works


def _read(view: MetricView, compiled: CompiledPolicy) -> list[float | None]:
    return [view.get(name) for name in compiled.names]
