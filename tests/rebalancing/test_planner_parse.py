"""Request validation and schema version negotiation of the planner."""

from __future__ import annotations

import math
from typing import Any

import pytest

from rebalancing.planner import (
    Position,
    RebalanceValidationError,
    negotiate_schema_version,
    parse_rebalance_request,
    worlds_named,
)

from .test_planner_support import body, pos


def parse(data: Any, *, compat_v2: bool = False, required: bool = False) -> Any:
    return parse_rebalance_request(data, compat_v2=compat_v2, alpha_metrics_required=required)


def error_of(data: Any, *, compat_v2: bool = False, required: bool = False) -> Any:
    with pytest.raises(RebalanceValidationError) as info:
        parse(data, compat_v2=compat_v2, required=required)
    return info.value


# --- a good request ----------------------------------------------------------------------------


def test_parse__full_request__typed_values() -> None:
    request = parse(
        body(
            positions=[pos("w1", "s1", "BTC", 2, 100, "binance"), pos("w1", "s2", "ETH", -1.5, 10)],
            strategy_alloc_before_total={"w1": {"s1": 0.25}},
            strategy_alloc_after_total={"w1": {"s1": 0.1}},
            min_trade_notional=10,
            lot_size_by_symbol={"BTC": 0.001},
            mode="scaling",
            schema_version=2,
            rebalance_intent={"meta": {"reason": "nightly", "n": 3}},
            realized_returns_by_world={"w1": [0.01, -0.02]},
            realized_returns_by_strategy={"s1": [0.03]},
            run_id="run-2025.11:01",
        ),
        compat_v2=True,
    )
    assert request.total_equity == 1000.0
    assert request.positions == (
        Position("w1", "s1", "BTC", 2.0, 100.0, "binance"),
        Position("w1", "s2", "ETH", -1.5, 10.0, None),
    )
    assert request.min_trade_notional == 10.0
    assert request.schema_version == 2
    assert request.requested_schema_version == 2
    assert request.rebalance_intent is not None
    assert dict(request.rebalance_intent.meta) == {"reason": "nightly", "n": 3}
    assert request.realized_returns_by_world == {"w1": (0.01, -0.02)}
    assert request.run_id == "run-2025.11:01"


def test_parse__optional_keys_null__treated_as_absent() -> None:
    request = parse(
        body(
            min_trade_notional=None,
            lot_size_by_symbol=None,
            mode=None,
            overlay=None,
            schema_version=None,
            rebalance_intent=None,
            run_id=None,
            positions=[{**pos("w1", "s1", "BTC", 1, 1), "venue": None}],
        )
    )
    assert request.mode == "scaling"
    assert request.schema_version == 1
    assert request.positions[0].venue is None


def test_parse__empty_positions__accepted() -> None:
    assert parse(body(positions=[])).positions == ()


# --- version negotiation -----------------------------------------------------------------------


@pytest.mark.parametrize("compat_v2", [False, True])
@pytest.mark.parametrize("requested", [None, 1, 2])
@pytest.mark.parametrize("required", [False, True])
def test_parse__version_matrix__negotiated_or_rejected(
    compat_v2: bool, requested: int | None, required: bool
) -> None:
    data = body() if requested is None else body(schema_version=requested)
    if required and (requested or 1) < 2:
        _assert_schema_version_required(error_of(data, compat_v2=compat_v2, required=required))
        return
    request = parse(data, compat_v2=compat_v2, required=required)
    expected = min(requested or 1, 2 if compat_v2 else 1)
    assert request.schema_version == expected
    assert request.requested_schema_version == (requested or 1)


def _assert_schema_version_required(err) -> None:
    assert err.status == 400
    assert err.code == "schema_version_required"
    assert "schema_version>=2" in err.detail
    assert any("schema_version>=2" in m for m in err.errors["schema_version"])


@pytest.mark.parametrize(
    ("requested", "compat_v2", "expected"),
    [(None, False, 1), (None, True, 1), (1, True, 1), (2, False, 1), (2, True, 2)],
)
def test_negotiate_schema_version__requested_and_flag__capped(
    requested: int | None, compat_v2: bool, expected: int
) -> None:
    assert negotiate_schema_version(requested, compat_v2=compat_v2) == expected


# --- modes -------------------------------------------------------------------------------------


def test_parse__hybrid_mode__501_not_implemented() -> None:
    err = error_of(body(mode="hybrid"))
    assert (err.status, err.code) == (501, "not_implemented")
    assert "mode" in err.errors


def test_parse__hybrid_with_bad_field__400_first() -> None:
    err = error_of(body(mode="hybrid", total_equity="lots"))
    assert (err.status, err.code) == (400, "invalid")


def test_parse__overlay_without_config__400() -> None:
    err = error_of(body(mode="overlay"))
    assert (err.status, err.code) == (400, "invalid")
    assert "overlay" in err.errors


def test_parse__overlay_without_instrument_for_held_world__400() -> None:
    err = error_of(
        body(
            mode="overlay",
            world_alloc_before={"w1": 0.5, "w2": 0.1},
            world_alloc_after={"w1": 0.25, "w2": 0.1},
            positions=[pos("w1", "s", "BTC", 1, 1), pos("w2", "s", "BTC", 1, 1)],
            overlay={"instrument_by_world": {"w1": "ES"}, "price_by_symbol": {"ES": 50}},
        )
    )
    assert err.status == 400
    assert any('"w2"' in m for m in err.errors["overlay.instrument_by_world"])


def test_parse__overlay_instrument_without_price__400() -> None:
    err = error_of(
        body(
            mode="overlay",
            overlay={"instrument_by_world": {"w1": "ES"}, "price_by_symbol": {"NQ": 50}},
        )
    )
    assert "overlay.instrument_by_world.w1" in err.errors


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ([1, 2], "non_field_errors"),
        ("text", "non_field_errors"),
        (body(surprise=1), "surprise"),
        (body(stress_by_world={}), "stress_by_world"),
        ({k: v for k, v in body().items() if k != "total_equity"}, "total_equity"),
        ({k: v for k, v in body().items() if k != "positions"}, "positions"),
        (body(world_alloc_after=None), "world_alloc_after"),
        (body(total_equity="1000"), "total_equity"),
        (body(total_equity=True), "total_equity"),
        (body(total_equity=math.nan), "total_equity"),
        (body(total_equity=-1), "total_equity"),
        (body(total_equity=1e19), "total_equity"),
        (body(positions=[pos("w1", "s", "X", -2e18, 1)]), "positions[0].qty"),
        (body(world_alloc_after={"w1": 1.5}), "world_alloc_after.w1"),
        (body(world_alloc_after={"w1": -0.1}), "world_alloc_after.w1"),
        (body(world_alloc_after={"w1": math.inf}), "world_alloc_after.w1"),
        (body(world_alloc_after=[0.5]), "world_alloc_after"),
        (body(world_alloc_before={"W 1": 0.5}), "world_alloc_before.W 1"),
        (body(positions={"w1": []}), "positions"),
        (body(positions=["x"]), "positions[0]"),
        (body(positions=[{**pos("w1", "s", "X", 1, 1), "side": "long"}]), "positions[0].side"),
        (body(positions=[pos("w1", "s", "X", math.nan, 1)]), "positions[0].qty"),
        (body(positions=[pos("w1", "s", "X", 1, math.inf)]), "positions[0].mark"),
        (body(positions=[pos("w1", "s", "X", 1, -5)]), "positions[0].mark"),
        (body(positions=[pos("w1", "s", "X", "1", 1)]), "positions[0].qty"),
        (body(positions=[pos("w1", "s", "X", False, 1)]), "positions[0].qty"),
        (body(positions=[pos("w1", "s|x", "X", 1, 1)]), "positions[0].strategy_id"),
        (body(positions=[pos("w1", "s", "", 1, 1)]), "positions[0].symbol"),
        (body(positions=[pos("w1", "s", "X", 1, 1, "")]), "positions[0].venue"),
        (
            body(positions=[{"world_id": "w1", "symbol": "X", "qty": 1, "mark": 1}]),
            "positions[0].strategy_id",
        ),
        (body(positions=[pos("w9", "s", "X", 1, 1)]), "positions[0].world_id"),
        (body(strategy_alloc_after_total={"w1": 0.5}), "strategy_alloc_after_total.w1"),
        (body(strategy_alloc_after_total={"w1": {"s": 2}}), "strategy_alloc_after_total.w1.s"),
        (body(strategy_alloc_before_total={"w9": {"s": 0.1}}), "strategy_alloc_before_total.w9"),
        (body(min_trade_notional=-1), "min_trade_notional"),
        (body(lot_size_by_symbol={"BTC": 0}), "lot_size_by_symbol.BTC"),
        (body(mode="SCALING"), "mode"),
        (body(mode=1), "mode"),
        (body(schema_version=3), "schema_version"),
        (body(schema_version=0), "schema_version"),
        (body(schema_version="2"), "schema_version"),
        (body(schema_version=True), "schema_version"),
        (body(rebalance_intent={"meta": {}, "why": "x"}), "rebalance_intent.why"),
        (body(rebalance_intent={"meta": []}), "rebalance_intent.meta"),
        (body(rebalance_intent={"meta": {"x": math.nan}}), "rebalance_intent.meta"),
        (
            body(realized_returns_by_world={"w1": [0.1, math.nan]}),
            "realized_returns_by_world.w1[1]",
        ),
        (body(realized_returns_by_world={"w1": 0.1}), "realized_returns_by_world.w1"),
        (body(realized_returns_by_world={"w9": [0.1]}), "realized_returns_by_world.w9"),
        (body(realized_returns_by_strategy={"s": ["x"]}), "realized_returns_by_strategy.s[0]"),
        (
            body(overlay={"instrument_by_world": {"w1": "ES"}, "price_by_symbol": {"ES": 0}}),
            "overlay.price_by_symbol.ES",
        ),
        (
            body(
                overlay={
                    "instrument_by_world": {"w1": "ES"},
                    "price_by_symbol": {"ES": 1},
                    "artifact": {},
                }
            ),
            "overlay.artifact",
        ),
        (body(overlay={"price_by_symbol": {"ES": 1}}), "overlay.instrument_by_world"),
        (body(run_id="has space"), "run_id"),
        (body(run_id="x" * 129), "run_id"),
        (body(world_alloc_before={}, world_alloc_after={}, positions=[]), "world_alloc_after"),
    ],
)
def test_parse__bad_input__400_invalid_with_field_path(data: Any, path: str) -> None:
    err = error_of(data)
    assert err.status == 400
    assert err.code == "invalid"
    assert path in err.errors, err.errors
    assert all(isinstance(m, str) and m for msgs in err.errors.values() for m in msgs)


def test_parse__several_problems__all_reported() -> None:
    err = error_of(
        body(
            total_equity="x",
            bogus=1,
            positions=[pos("w1", "s", "X", math.nan, 1), pos("w1", "s", "Y", 1, "m")],
        )
    )
    assert {"total_equity", "bogus", "positions[0].qty", "positions[1].mark"} <= set(err.errors)
    assert err.detail.startswith("Invalid rebalance request")


# --- worlds_named ------------------------------------------------------------------------------


def test_worlds_named__every_place_a_world_appears__union() -> None:
    request = parse(
        body(
            world_alloc_before={"a": 0.1, "b": 0.2},
            world_alloc_after={"c": 0.3},
            positions=[pos("b", "s", "X", 1, 1)],
            strategy_alloc_after_total={"a": {"s": 0.1}},
            realized_returns_by_world={"c": [0.1]},
        )
    )
    assert worlds_named(request) == {"a", "b", "c"}
