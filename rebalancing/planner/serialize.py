"""Write a `RebalancePlan` as the wire response of `/rebalancing/plan`.

The shape: docs/contract.md#rebalancing-and-allocations and docs/rebalancing.md#response.
"""

from __future__ import annotations

from typing import Any

from .types import AlphaMetrics, RebalancePlan, SymbolDelta, WorldPlan


def plan_to_dict(plan: RebalancePlan) -> dict[str, Any]:
    """The JSON response body: keys with no value are left out, every collection is sorted.

    `overlay_deltas` is present only in overlay mode; `alpha_metrics` and `rebalance_intent` only
    for schema version 2 (where they are always present).
    """
    body: dict[str, Any] = {
        "schema_version": plan.schema_version,
        "per_world": {
            world_id: world_plan_to_dict(plan.per_world[world_id])
            for world_id in sorted(plan.per_world)
        },
        "global_deltas": [delta_to_dict(delta) for delta in plan.global_deltas],
    }
    if plan.overlay_deltas is not None:
        body["overlay_deltas"] = [delta_to_dict(delta) for delta in plan.overlay_deltas]
    if plan.alpha_metrics is not None:
        body["alpha_metrics"] = alpha_metrics_to_dict(plan.alpha_metrics)
    if plan.rebalance_intent is not None:
        body["rebalance_intent"] = {"meta": dict(plan.rebalance_intent.meta)}
    return body


def world_plan_to_dict(plan: WorldPlan) -> dict[str, Any]:
    return {
        "world_id": plan.world_id,
        "scale_world": plan.scale_world,
        "scale_by_strategy": {
            sid: plan.scale_by_strategy[sid] for sid in sorted(plan.scale_by_strategy)
        },
        "deltas": [delta_to_dict(delta) for delta in plan.deltas],
    }


def delta_to_dict(delta: SymbolDelta) -> dict[str, Any]:
    body: dict[str, Any] = {"symbol": delta.symbol, "delta_qty": delta.delta_qty}
    if delta.venue is not None:
        body["venue"] = delta.venue
    return body


def alpha_metrics_to_dict(metrics: AlphaMetrics) -> dict[str, Any]:
    return {
        "per_world": {
            world_id: dict(metrics.per_world[world_id]) for world_id in sorted(metrics.per_world)
        },
        "per_strategy": {
            strategy_id: {world_id: dict(by_world[world_id]) for world_id in sorted(by_world)}
            for strategy_id, by_world in sorted(metrics.per_strategy.items())
        },
    }
