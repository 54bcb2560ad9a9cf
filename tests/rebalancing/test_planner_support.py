"""Builders shared by the planner tests (pure: no Django; this module holds no tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from rebalancing.planner import RebalancePlan, SymbolDelta, parse_rebalance_request, plan_rebalance


def pos(
    world_id: str,
    strategy_id: str,
    symbol: str,
    qty: Any,
    mark: Any,
    venue: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "world_id": world_id,
        "strategy_id": strategy_id,
        "symbol": symbol,
        "qty": qty,
        "mark": mark,
    }
    if venue is not None:
        body["venue"] = venue
    return body


def body(**overrides: Any) -> dict[str, Any]:
    """A valid one-world request (w1: 0.5 -> 0.25) that tests override piece by piece."""
    data: dict[str, Any] = {
        "total_equity": 1000.0,
        "world_alloc_before": {"w1": 0.5},
        "world_alloc_after": {"w1": 0.25},
        "positions": [pos("w1", "s1", "BTC", 2, 100, "binance")],
    }
    data.update(overrides)
    return data


def plan_of(
    data: dict[str, Any], *, compat_v2: bool = False, required: bool = False
) -> RebalancePlan:
    request = parse_rebalance_request(data, compat_v2=compat_v2, alpha_metrics_required=required)
    return plan_rebalance(request)


def assert_deltas(
    actual: Sequence[SymbolDelta], expected: Sequence[tuple[str, float, str | None]]
) -> None:
    """Same (symbol, venue) keys in the same order, quantities equal up to float rounding."""
    assert [(d.symbol, d.venue) for d in actual] == [(s, v) for s, _, v in expected]
    assert [d.delta_qty for d in actual] == pytest.approx([q for _, q, _ in expected])
