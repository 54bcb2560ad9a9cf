"""What one evaluation reads: strategies with metrics, series, correlations, `previous`, `as_of`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias

from policies.dsl.model import SIDES, Side

#: `{"returns" | "pnl" | "equity": [...]}` for one strategy.
Series: TypeAlias = Mapping[str, Sequence[object] | None]
#: `(a, b, value)`: the correlation of strategies a and b.
CorrelationPair: TypeAlias = tuple[str, str, object]


@dataclass(frozen=True, slots=True)
class StrategyInput:
    """One strategy: its metrics map (values may nest), its side and an optional return series."""

    metrics: Mapping[str, object]
    side: Side = "long"
    series: Series | None = None

    def __post_init__(self) -> None:
        if self.side not in SIDES:
            raise ValueError(f"side must be one of {', '.join(SIDES)}, not {self.side!r}")


@dataclass(frozen=True, slots=True)
class EvaluationInput:
    """Everything one evaluation reads besides the policy and the hysteresis state.

    `strategies` keeps its order: the per-strategy output follows it. `previous` is the set that is
    active now (the world's current decisions); `as_of` must be timezone-aware.
    """

    strategies: Mapping[str, StrategyInput]
    as_of: datetime
    correlations: Sequence[CorrelationPair] = ()
    previous: AbstractSet[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.as_of.tzinfo is None or self.as_of.utcoffset() is None:
            raise ValueError("as_of must be timezone-aware")
        if not isinstance(self.previous, frozenset):
            object.__setattr__(self, "previous", frozenset(self.previous))


def build_input(
    metrics: Mapping[str, Mapping[str, object]],
    *,
    as_of: datetime,
    series: Mapping[str, Series] | None = None,
    correlations: Iterable[CorrelationPair | Mapping[str, object]] = (),
    previous: Iterable[str] = (),
) -> EvaluationInput:
    """Build the input from request-shaped maps (docs/contract.md#evaluate).

    `metrics` is `{strategy: {metric: value, ..., "side"?: "long" | "short"}}`: the `side` entry is
    taken out of the metrics (absent or null: long). `series` may name strategies without metrics;
    they are evaluated with only their alpha_performance metrics. `correlations` items may be
    `(a, b, value)` or `{"a", "b", "value"}`. Raises ValueError on a side other than long/short
    or a correlation item without `a`/`b`.
    """
    series = series or {}
    strategies: dict[str, StrategyInput] = {}
    for strategy_id, entry in metrics.items():
        side = entry.get("side")
        if side is None:
            side = "long"
        if side not in SIDES:
            raise ValueError(f"metrics.{strategy_id}.side must be long or short, not {side!r}")
        values = {k: v for k, v in entry.items() if k != "side"} if "side" in entry else entry
        strategies[strategy_id] = StrategyInput(
            metrics=values,
            side=side,  # type: ignore[arg-type]  # checked against SIDES above
            series=series.get(strategy_id),
        )
    for strategy_id, strategy_series in series.items():
        if strategy_id not in strategies:
            strategies[strategy_id] = StrategyInput(metrics={}, series=strategy_series)
    return EvaluationInput(
        strategies=strategies,
        as_of=as_of,
        correlations=[_correlation_pair(item) for item in correlations],
        previous=frozenset(previous),
    )


def _correlation_pair(item: CorrelationPair | Mapping[str, object]) -> CorrelationPair:
    if isinstance(item, Mapping):
        a, b = item.get("a"), item.get("b")
        if not isinstance(a, str) or not isinstance(b, str):
            raise ValueError(f"a correlation needs string 'a' and 'b', got {dict(item)!r}")
        return (a, b, item.get("value"))
    return item
