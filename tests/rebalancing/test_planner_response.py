"""The wire response (`plan_to_dict`) and v2 alpha metrics of the planner."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import pytest

from policies.engine.alpha_performance import alpha_metrics_from_returns
from rebalancing.planner import (
    ALPHA_METRIC_KEYS,
    parse_rebalance_request,
    plan_rebalance,
    plan_to_dict,
    sanitize_alpha_metrics,
)

from .test_planner_support import body, plan_of, pos

SIX_KEYS = {
    "alpha_performance.sharpe",
    "alpha_performance.max_drawdown",
    "alpha_performance.win_ratio",
    "alpha_performance.profit_factor",
    "alpha_performance.car_mdd",
    "alpha_performance.rar_mdd",
}


def two_worlds(**extra: object) -> dict[str, object]:
    return body(
        world_alloc_before={"w1": 0.5, "w2": 0.2},
        world_alloc_after={"w1": 0.25, "w2": 0.2},
        positions=[
            pos("w1", "s1", "BTC", 2, 100, "binance"),
            pos("w1", "s2", "ETH", -10, 10),
            pos("w2", "s1", "BTC", 1, 100, "binance"),
        ],
        **extra,
    )


# --- v1 ----------------------------------------------------------------------------------------


def test_plan_to_dict__v1__exact_contract_shape() -> None:
    out = plan_to_dict(plan_of(two_worlds()))
    assert out == {
        "schema_version": 1,
        "per_world": {
            "w1": {
                "world_id": "w1",
                "scale_world": 0.5,
                "scale_by_strategy": {"s1": 0.5, "s2": 0.5},
                "deltas": [
                    {"symbol": "BTC", "delta_qty": -1.0, "venue": "binance"},
                    {"symbol": "ETH", "delta_qty": 5.0},
                ],
            },
            "w2": {
                "world_id": "w2",
                "scale_world": 1.0,
                "scale_by_strategy": {"s1": 1.0},
                "deltas": [],
            },
        },
        "global_deltas": [
            {"symbol": "BTC", "delta_qty": -1.0, "venue": "binance"},
            {"symbol": "ETH", "delta_qty": 5.0},
        ],
    }


def test_plan_to_dict__v1_request_with_v2_fields__no_alpha_metrics_or_intent() -> None:
    out = plan_to_dict(
        plan_of(
            two_worlds(
                schema_version=2,
                rebalance_intent={"meta": {"a": 1}},
                realized_returns_by_world={"w1": [0.1]},
            ),
            compat_v2=False,
        )
    )
    assert out["schema_version"] == 1
    assert "alpha_metrics" not in out
    assert "rebalance_intent" not in out
    assert "overlay_deltas" not in out


def test_plan_to_dict__output__json_serialisable_finite_and_deterministic() -> None:
    data = two_worlds(schema_version=2, realized_returns_by_world={"w1": [0.01, -0.02, 0.03]})
    first = json.dumps(plan_to_dict(plan_of(data, compat_v2=True)), allow_nan=False)
    # The same request with its maps and positions in another order gives the same bytes.
    shuffled = dict(reversed(list(data.items())))
    shuffled["positions"] = list(reversed(data["positions"]))  # type: ignore[call-overload]
    shuffled["world_alloc_before"] = {"w2": 0.2, "w1": 0.5}
    second = json.dumps(plan_to_dict(plan_of(shuffled, compat_v2=True)), allow_nan=False)
    assert first == second


def test_plan_to_dict__overlay_mode__overlay_deltas_present() -> None:
    out = plan_to_dict(
        plan_of(
            body(
                mode="overlay",
                overlay={"instrument_by_world": {"w1": "ES"}, "price_by_symbol": {"ES": 50}},
            )
        )
    )
    # w1: 2 @ 100 halves -> -100 of notional -> ES @ 50 -> -2.
    assert out["overlay_deltas"] == [{"symbol": "ES", "delta_qty": -2.0}]


# --- v2 ----------------------------------------------------------------------------------------


def test_plan_to_dict__v2__alpha_metrics_six_keys_per_world_and_strategy() -> None:
    out = plan_to_dict(plan_of(two_worlds(schema_version=2), compat_v2=True))
    assert out["schema_version"] == 2
    metrics = out["alpha_metrics"]
    assert set(metrics) == {"per_world", "per_strategy"}
    _assert_per_world_six_zeros(metrics["per_world"])
    # s1 holds in both worlds, s2 only in w1.
    assert {s: set(ws) for s, ws in metrics["per_strategy"].items()} == {
        "s1": {"w1", "w2"},
        "s2": {"w1"},
    }
    for by_world in metrics["per_strategy"].values():
        for values in by_world.values():
            assert set(values) == SIX_KEYS
    assert out["rebalance_intent"] == {"meta": {}}


def _assert_per_world_six_zeros(per_world) -> None:
    assert set(per_world) == {"w1", "w2"}
    for values in per_world.values():
        assert set(values) == SIX_KEYS
        assert all(v == 0.0 for v in values.values())  # no returns given


def test_plan_to_dict__v2_with_returns__metrics_from_shared_calculator() -> None:
    world_returns = [0.01, -0.02, 0.03, 0.005]
    strategy_returns = [0.02, -0.01, -0.01, 0.04]
    out = plan_to_dict(
        plan_of(
            two_worlds(
                schema_version=2,
                realized_returns_by_world={"w1": world_returns},
                realized_returns_by_strategy={"s1": strategy_returns, "ghost": [0.1]},
                rebalance_intent={"meta": {"reason": "drift"}},
            ),
            compat_v2=True,
        )
    )
    metrics = out["alpha_metrics"]
    expected_world = alpha_metrics_from_returns(world_returns)
    expected_strategy = alpha_metrics_from_returns(strategy_returns)
    assert metrics["per_world"]["w1"] == pytest.approx(expected_world)
    assert metrics["per_world"]["w1"]["alpha_performance.sharpe"] != 0.0
    assert metrics["per_world"]["w2"] == dict.fromkeys(SIX_KEYS, 0.0)
    assert metrics["per_strategy"]["s1"]["w1"] == pytest.approx(expected_strategy)
    assert metrics["per_strategy"]["s1"]["w2"] == pytest.approx(expected_strategy)
    assert metrics["per_strategy"]["s2"]["w1"] == dict.fromkeys(SIX_KEYS, 0.0)
    # A strategy with returns but no world in the plan has nowhere to go.
    assert "ghost" not in metrics["per_strategy"]
    assert out["rebalance_intent"] == {"meta": {"reason": "drift"}}


def test_plan_rebalance__calculator_returns_nan_or_misses_keys__reported_as_zero() -> None:
    def broken(returns: Sequence[float]) -> Mapping[str, float]:
        return {"alpha_performance.sharpe": math.nan, "win_ratio": 0.75, "car_mdd": math.inf}

    request = parse_rebalance_request(
        body(schema_version=2, realized_returns_by_world={"w1": [0.1]}),
        compat_v2=True,
        alpha_metrics_required=True,
    )
    plan = plan_rebalance(request, metrics_fn=broken)
    assert plan.alpha_metrics is not None
    assert dict(plan.alpha_metrics.per_world["w1"]) == {
        "alpha_performance.sharpe": 0.0,
        "alpha_performance.max_drawdown": 0.0,
        "alpha_performance.win_ratio": 0.75,
        "alpha_performance.profit_factor": 0.0,
        "alpha_performance.car_mdd": 0.0,
        "alpha_performance.rar_mdd": 0.0,
    }


def test_sanitize_alpha_metrics__extra_and_bad_values__exactly_six_finite_keys() -> None:
    out = sanitize_alpha_metrics({"alpha_performance.sharpe": True, "other": 1.0, "rar_mdd": 2})
    assert tuple(out) == ALPHA_METRIC_KEYS
    assert out["alpha_performance.sharpe"] == 0.0
    assert out["alpha_performance.rar_mdd"] == 2.0
