"""Build a `RebalancePlan` from a validated `RebalanceRequest` (pure: no I/O, no Django)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from policies.engine.alpha_performance import alpha_metrics_from_returns

from .errors import RebalanceValidationError
from .parse import NON_FIELD
from .scaling import (
    DeltaKey,
    finish_deltas,
    reference_marks,
    round_to_lot,
    strategy_scale,
    world_scale,
)
from .types import (
    ALPHA_METRIC_KEYS,
    AlphaMetrics,
    Position,
    RebalanceIntent,
    RebalancePlan,
    RebalanceRequest,
    SymbolDelta,
    WorldPlan,
)

MetricsFn = Callable[[Sequence[float]], Mapping[str, float]]


def worlds_named(request: RebalanceRequest) -> set[str]:
    """Every world id the request mentions anywhere (what a role check has to cover)."""
    worlds: set[str] = set(request.world_alloc_before) | set(request.world_alloc_after)
    worlds.update(position.world_id for position in request.positions)
    worlds.update(request.strategy_alloc_before_total or {})
    worlds.update(request.strategy_alloc_after_total or {})
    worlds.update(request.realized_returns_by_world or {})
    if request.overlay is not None:
        worlds.update(request.overlay.instrument_by_world)
    return worlds


def planned_worlds(request: RebalanceRequest) -> list[str]:
    """The worlds a plan has an entry for: every world with an allocation or a position, sorted."""
    worlds = set(request.world_alloc_before) | set(request.world_alloc_after)
    worlds.update(position.world_id for position in request.positions)
    return sorted(worlds)


def plan_rebalance(
    request: RebalanceRequest, *, metrics_fn: MetricsFn | None = None
) -> RebalancePlan:
    """Plan the rebalance; `metrics_fn` replaces the alpha metric calculator (tests only).

    Raises `RebalanceValidationError` (400) in the one case validation cannot foresee: a plan that
    would hold a number that is not finite (say an allocation of 1e-320 scaled to 0.5).
    """
    by_world: dict[str, list[Position]] = {}
    for position in request.positions:
        by_world.setdefault(position.world_id, []).append(position)

    per_world: dict[str, WorldPlan] = {}
    position_scales: dict[str, dict[str, float]] = {}
    for world_id in planned_worlds(request):
        positions = by_world.get(world_id, [])
        gw = world_scale(
            request.world_alloc_before.get(world_id, 0.0),
            request.world_alloc_after.get(world_id, 0.0),
        )
        scales = _strategy_scales(request, world_id, positions, gw)
        position_scales[world_id] = scales
        deltas = _world_deltas(request, positions, scales)
        per_world[world_id] = WorldPlan(
            world_id=world_id,
            scale_world=gw,
            scale_by_strategy=scales,
            deltas=deltas,
        )

    global_deltas = _global_deltas(request, per_world)
    overlay_deltas = (
        _overlay_deltas(request, by_world, position_scales) if request.mode == "overlay" else None
    )

    alpha_metrics: AlphaMetrics | None = None
    intent: RebalanceIntent | None = None
    if request.schema_version >= 2:
        alpha_metrics = _alpha_metrics(request, per_world, metrics_fn or alpha_metrics_from_returns)
        intent = request.rebalance_intent or RebalanceIntent(meta={})

    _ensure_finite(per_world, global_deltas, overlay_deltas)
    return RebalancePlan(
        schema_version=request.schema_version,
        per_world=per_world,
        global_deltas=global_deltas,
        overlay_deltas=overlay_deltas,
        alpha_metrics=alpha_metrics,
        rebalance_intent=intent,
    )


def _ensure_finite(
    per_world: Mapping[str, WorldPlan],
    global_deltas: Sequence[SymbolDelta],
    overlay_deltas: Sequence[SymbolDelta] | None,
) -> None:
    """Refuse a plan with a non-finite number (e.g. an allocation of 1e-320 scaled up to inf)."""
    numbers: list[float] = [d.delta_qty for d in global_deltas]
    numbers.extend(d.delta_qty for d in overlay_deltas or ())
    for plan in per_world.values():
        numbers.append(plan.scale_world)
        numbers.extend(plan.scale_by_strategy.values())
        numbers.extend(d.delta_qty for d in plan.deltas)
    if not all(math.isfinite(number) for number in numbers):
        raise RebalanceValidationError(
            {
                NON_FIELD: [
                    "the request leads to quantities that are not finite numbers "
                    "(an allocation too close to 0 or values too large)"
                ]
            },
            code="invalid",
            status=400,
        )


# --- scaling -----------------------------------------------------------------------------------


def _strategy_scales(
    request: RebalanceRequest,
    world_id: str,
    positions: Sequence[Position],
    gw: float,
) -> dict[str, float]:
    before_map = (request.strategy_alloc_before_total or {}).get(world_id, {})
    after_map = (request.strategy_alloc_after_total or {}).get(world_id, {})

    gross: dict[str, float] = {}
    for position in positions:
        gross[position.strategy_id] = gross.get(position.strategy_id, 0.0) + abs(position.notional)

    strategies = set(gross) | set(before_map) | set(after_map)
    scales: dict[str, float] = {}
    for strategy_id in sorted(strategies):
        before = before_map.get(strategy_id)
        if before is None and strategy_id in after_map:
            # No stated prior allocation: infer it from the strategy's gross exposure.
            exposure = gross.get(strategy_id, 0.0)
            before = exposure / request.total_equity if request.total_equity > 0 else 0.0
        scales[strategy_id] = strategy_scale(
            world_scale_factor=gw,
            before_total=before,
            after_total=after_map.get(strategy_id),
        )
    return scales


def _world_deltas(
    request: RebalanceRequest,
    positions: Sequence[Position],
    scales: Mapping[str, float],
) -> tuple[SymbolDelta, ...]:
    raw: dict[DeltaKey, float] = {}
    gross: dict[DeltaKey, float] = {}
    for position in positions:
        key = (position.symbol, position.venue)
        change = position.qty * (scales[position.strategy_id] - 1.0)
        raw[key] = raw.get(key, 0.0) + change
        gross[key] = gross.get(key, 0.0) + abs(position.qty)
    return finish_deltas(
        raw,
        gross,
        reference_marks(positions),
        min_trade_notional=request.min_trade_notional,
        lot_size_by_symbol=request.lot_size_by_symbol,
    )


def _global_deltas(
    request: RebalanceRequest, per_world: Mapping[str, WorldPlan]
) -> tuple[SymbolDelta, ...]:
    """Net of the per-world deltas per (symbol, venue), filtered and rounded once more."""
    raw: dict[DeltaKey, float] = {}
    gross: dict[DeltaKey, float] = {}
    for plan in per_world.values():
        for delta in plan.deltas:
            key = (delta.symbol, delta.venue)
            raw[key] = raw.get(key, 0.0) + delta.delta_qty
            gross[key] = gross.get(key, 0.0) + abs(delta.delta_qty)
    return finish_deltas(
        raw,
        gross,
        reference_marks(request.positions),
        min_trade_notional=request.min_trade_notional,
        lot_size_by_symbol=request.lot_size_by_symbol,
    )


def _overlay_deltas(
    request: RebalanceRequest,
    by_world: Mapping[str, Sequence[Position]],
    position_scales: Mapping[str, Mapping[str, float]],
) -> tuple[SymbolDelta, ...]:
    """Hedge each world's notional change with its overlay instrument instead of trading holdings.

    The notional change of a world is what the scaling plan would trade before rounding,
    `sum(qty * mark * (scale_of_strategy - 1))`; it is bought or sold in the world's instrument at
    `price_by_symbol`, netted per instrument across worlds, then rounded and filtered.
    """
    overlay = request.overlay
    if overlay is None:
        return ()
    raw: dict[DeltaKey, float] = {}
    gross: dict[DeltaKey, float] = {}
    for world_id in sorted(by_world):
        instrument = overlay.instrument_by_world.get(world_id)
        price = overlay.price_by_symbol.get(instrument, 0.0) if instrument else 0.0
        if instrument is None or price <= 0.0:
            continue
        scales = position_scales.get(world_id, {})
        change = sum(
            p.notional * (scales.get(p.strategy_id, 1.0) - 1.0) for p in by_world[world_id]
        )
        key = (instrument, None)
        raw[key] = raw.get(key, 0.0) + change / price
        gross[key] = gross.get(key, 0.0) + sum(abs(p.notional) for p in by_world[world_id]) / price
    min_notional = (
        overlay.min_order_notional
        if overlay.min_order_notional is not None
        else request.min_trade_notional
    )
    marks: dict[DeltaKey, float] = {
        (symbol, None): price for symbol, price in overlay.price_by_symbol.items()
    }
    return finish_deltas(
        raw,
        gross,
        marks,
        min_trade_notional=min_notional,
        lot_size_by_symbol=request.lot_size_by_symbol,
    )


# --- alpha metrics (v2) ------------------------------------------------------------------------


def zero_alpha_metrics() -> dict[str, float]:
    return dict.fromkeys(ALPHA_METRIC_KEYS, 0.0)


def sanitize_alpha_metrics(raw: Mapping[str, object]) -> dict[str, float]:
    """Exactly the six keys; a missing, non-numeric or non-finite value becomes 0.0.

    Accepts either the namespaced keys (`alpha_performance.sharpe`) or the bare ones (`sharpe`).
    """
    out: dict[str, float] = {}
    for key in ALPHA_METRIC_KEYS:
        bare = key.split(".", 1)[1]
        value = raw.get(key, raw.get(bare))
        number = 0.0
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        out[key] = number if math.isfinite(number) else 0.0
    return out


def _alpha_metrics(
    request: RebalanceRequest,
    per_world: Mapping[str, WorldPlan],
    metrics_fn: MetricsFn,
) -> AlphaMetrics:
    """Per world from `realized_returns_by_world`; per strategy from `realized_returns_by_strategy`.

    `per_strategy[s]` has an entry for each world whose plan lists `s` in `scale_by_strategy`
    (it holds positions there or has a stated allocation there); the strategy's returns are not
    split by world, so each of its worlds carries the same numbers.
    """

    def metrics_for(returns: Sequence[float] | None) -> dict[str, float]:
        if not returns:
            return zero_alpha_metrics()
        return sanitize_alpha_metrics(metrics_fn(list(returns)))

    by_world_returns = request.realized_returns_by_world or {}
    by_strategy_returns = request.realized_returns_by_strategy or {}

    world_metrics = {
        world_id: metrics_for(by_world_returns.get(world_id)) for world_id in sorted(per_world)
    }

    strategy_cache: dict[str, dict[str, float]] = {}
    per_strategy: dict[str, dict[str, dict[str, float]]] = {}
    for world_id in sorted(per_world):
        for strategy_id in sorted(per_world[world_id].scale_by_strategy):
            if strategy_id not in strategy_cache:
                strategy_cache[strategy_id] = metrics_for(by_strategy_returns.get(strategy_id))
            per_strategy.setdefault(strategy_id, {})[world_id] = dict(strategy_cache[strategy_id])
    return AlphaMetrics(
        per_world=world_metrics,
        per_strategy={sid: per_strategy[sid] for sid in sorted(per_strategy)},
    )


__all__ = [
    "plan_rebalance",
    "planned_worlds",
    "round_to_lot",
    "sanitize_alpha_metrics",
    "worlds_named",
    "zero_alpha_metrics",
]
