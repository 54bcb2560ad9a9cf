"""Typed request and plan of a multi-world rebalance.

These are plain immutable values: the parser builds a `RebalanceRequest` from JSON, the planner
turns it into a `RebalancePlan`, and `plan_to_dict` writes the plan back as the wire response.
Nothing here knows about Django, the database or HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

Mode = Literal["scaling", "overlay", "hybrid"]
MODES: Final[tuple[Mode, ...]] = ("scaling", "overlay", "hybrid")

SchemaVersion = Literal[1, 2]
SUPPORTED_SCHEMA_VERSIONS: Final[tuple[int, ...]] = (1, 2)

#: The six `alpha_performance` keys of a v2 `alpha_metrics` block, in wire order.
ALPHA_METRIC_KEYS: Final[tuple[str, ...]] = (
    "alpha_performance.sharpe",
    "alpha_performance.max_drawdown",
    "alpha_performance.win_ratio",
    "alpha_performance.profit_factor",
    "alpha_performance.car_mdd",
    "alpha_performance.rar_mdd",
)


@dataclass(frozen=True, slots=True)
class Position:
    """One holding of one strategy in one world, as reported by the caller."""

    world_id: str
    strategy_id: str
    symbol: str
    qty: float
    mark: float
    venue: str | None = None

    @property
    def notional(self) -> float:
        return self.qty * self.mark


@dataclass(frozen=True, slots=True)
class OverlayConfig:
    """How overlay mode hedges a world: one instrument per world, priced by `price_by_symbol`."""

    instrument_by_world: Mapping[str, str]
    price_by_symbol: Mapping[str, float]
    min_order_notional: float | None = None


@dataclass(frozen=True, slots=True)
class RebalanceIntent:
    """Free-form metadata about why a rebalance was asked for (echoed in v2 responses)."""

    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RebalanceRequest:
    """A validated `MultiWorldRebalanceRequest`.

    `schema_version` is the negotiated version the response will use; `requested_schema_version`
    is what the caller asked for (1 when it did not say).
    """

    total_equity: float
    world_alloc_before: Mapping[str, float]
    world_alloc_after: Mapping[str, float]
    positions: tuple[Position, ...] = ()
    strategy_alloc_before_total: Mapping[str, Mapping[str, float]] | None = None
    strategy_alloc_after_total: Mapping[str, Mapping[str, float]] | None = None
    min_trade_notional: float = 0.0
    lot_size_by_symbol: Mapping[str, float] | None = None
    mode: Mode = "scaling"
    overlay: OverlayConfig | None = None
    schema_version: SchemaVersion = 1
    requested_schema_version: int = 1
    rebalance_intent: RebalanceIntent | None = None
    realized_returns_by_world: Mapping[str, tuple[float, ...]] | None = None
    realized_returns_by_strategy: Mapping[str, tuple[float, ...]] | None = None
    run_id: str | None = None


@dataclass(frozen=True, slots=True)
class SymbolDelta:
    """Signed quantity change for one (symbol, venue): positive buys, negative sells."""

    symbol: str
    delta_qty: float
    venue: str | None = None


@dataclass(frozen=True, slots=True)
class WorldPlan:
    world_id: str
    scale_world: float
    scale_by_strategy: Mapping[str, float]
    deltas: tuple[SymbolDelta, ...] = ()


@dataclass(frozen=True, slots=True)
class AlphaMetrics:
    """v2 `alpha_metrics`: per world, and per strategy then world, the six alpha keys."""

    per_world: Mapping[str, Mapping[str, float]]
    per_strategy: Mapping[str, Mapping[str, Mapping[str, float]]]


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    schema_version: SchemaVersion
    per_world: Mapping[str, WorldPlan]
    global_deltas: tuple[SymbolDelta, ...]
    overlay_deltas: tuple[SymbolDelta, ...] | None = None
    alpha_metrics: AlphaMetrics | None = None
    rebalance_intent: RebalanceIntent | None = None
