"""Scaling, netting, dust and lot rounding of the planner, on hand-computed numbers."""

from __future__ import annotations

import pytest

from rebalancing.planner import (
    RebalanceValidationError,
    SymbolDelta,
    round_to_lot,
    strategy_scale,
    world_scale,
)

from .test_planner_support import assert_deltas, body, plan_of, pos

# --- world_scale / strategy_scale --------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0.5, 0.25, 0.5),
        (0.2, 0.3, 1.5),
        (0.3, 0.3, 1.0),
        (0.4, 0.0, 0.0),
        (0.0, 0.3, 1.0),  # no prior allocation, gets one: keep positions as they are
        (0.0, 0.0, 0.0),  # no allocation before or after: close
    ],
)
def test_world_scale__before_after__ratio_or_explicit_fallback(
    before: float, after: float, expected: float
) -> None:
    assert world_scale(before, after) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, None, 0.8),  # no target for the strategy: world cascades
        (0.2, None, 0.8),
        (0.2, 0.3, 1.5),  # both given: after / before, world not applied twice
        (0.2, 0.0, 0.0),
        (0.0, 0.1, 0.8),  # nothing before, something after: follow the world
        (None, 0.0, 0.0),  # nothing before, nothing after: close
    ],
)
def test_strategy_scale__before_after__combination_rule(
    before: float | None, after: float | None, expected: float
) -> None:
    scale = strategy_scale(world_scale_factor=0.8, before_total=before, after_total=after)
    assert scale == pytest.approx(expected)


# --- lot rounding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "lot", "expected"),
    [
        (0.3, 0.1, 0.3),  # 0.3 / 0.1 == 2.9999999999999996 must still be 3 lots
        (0.37, 0.1, 0.3),
        (-0.37, 0.1, -0.3),
        (0.09, 0.1, 0.0),
        (7.0, 2.0, 6.0),
        (-7.0, 2.0, -6.0),
        (1.23456, 0.001, 1.234),
        (5.5, None, 5.5),
        (5.5, 0.0, 5.5),
    ],
)
def test_round_to_lot__qty_and_lot__toward_zero(
    qty: float, lot: float | None, expected: float
) -> None:
    assert round_to_lot(qty, lot) == expected


# --- one world ---------------------------------------------------------------------------------


def test_plan__world_halved__deltas_are_minus_half_of_each_holding() -> None:
    plan = plan_of(
        body(
            positions=[
                pos("w1", "s1", "BTC", 2, 100, "binance"),
                pos("w1", "s1", "ETH", -10, 10),
            ]
        )
    )
    world = plan.per_world["w1"]
    assert world.scale_world == 0.5
    assert dict(world.scale_by_strategy) == {"s1": 0.5}
    # 2 * (0.5 - 1) = -1; a short of -10 shrinks by buying 5.
    assert_deltas(world.deltas, [("BTC", -1.0, "binance"), ("ETH", 5.0, None)])


def test_plan__strategy_targets_given__scale_is_after_over_before_and_nets_inside_world() -> None:
    plan = plan_of(
        body(
            world_alloc_before={"w1": 0.4},
            world_alloc_after={"w1": 0.4},
            strategy_alloc_before_total={"w1": {"a": 0.2, "b": 0.2}},
            strategy_alloc_after_total={"w1": {"a": 0.3, "b": 0.1}},
            positions=[
                pos("w1", "a", "X", 10, 1),
                pos("w1", "b", "X", 10, 1),
                pos("w1", "b", "Y", 4, 25),
            ],
        )
    )
    world = plan.per_world["w1"]
    assert world.scale_world == 1.0
    assert dict(world.scale_by_strategy) == pytest.approx({"a": 1.5, "b": 0.5})
    # X: a buys 10 * 0.5 = 5, b sells 10 * 0.5 = 5 -> nets to nothing. Y: 4 * (0.5 - 1) = -2.
    assert_deltas(world.deltas, [("Y", -2.0, None)])


def test_plan__after_only_for_strategy__before_inferred_from_gross_exposure() -> None:
    # a holds 100 of gross notional of 1000 equity -> before 0.1; after 0.2 -> scale 2.
    plan = plan_of(
        body(
            world_alloc_before={"w1": 0.5},
            world_alloc_after={"w1": 0.5},
            strategy_alloc_after_total={"w1": {"a": 0.2}},
            positions=[pos("w1", "a", "X", 1, 100), pos("w1", "b", "Z", 3, 10)],
        )
    )
    world = plan.per_world["w1"]
    assert dict(world.scale_by_strategy) == pytest.approx({"a": 2.0, "b": 1.0})
    assert_deltas(world.deltas, [("X", 1.0, None)])


def test_plan__world_dropped_from_after__positions_closed() -> None:
    plan = plan_of(
        body(
            world_alloc_before={"w1": 0.5, "w2": 0.2},
            world_alloc_after={"w1": 0.5},
            positions=[pos("w2", "s", "BTC", 3, 100), pos("w2", "s", "ETH", -2, 10)],
        )
    )
    assert plan.per_world["w2"].scale_world == 0.0
    assert_deltas(plan.per_world["w2"].deltas, [("BTC", -3.0, None), ("ETH", 2.0, None)])
    # w1 is planned too (it is named), with nothing to trade.
    assert plan.per_world["w1"].scale_world == 1.0
    assert plan.per_world["w1"].deltas == ()


def test_plan__world_new_in_after__positions_kept() -> None:
    plan = plan_of(
        body(
            world_alloc_before={},
            world_alloc_after={"w1": 0.3},
            positions=[pos("w1", "s", "BTC", 3, 100)],
        )
    )
    assert plan.per_world["w1"].scale_world == 1.0
    assert plan.per_world["w1"].deltas == ()
    assert plan.global_deltas == ()


def test_plan__allocation_scaled_to_infinity__400_not_a_crash() -> None:
    with pytest.raises(RebalanceValidationError) as info:
        plan_of(
            body(
                world_alloc_before={"w1": 5e-324},
                world_alloc_after={"w1": 0.5},
                positions=[pos("w1", "s", "BTC", 1e18, 1e18)],
            )
        )
    assert (info.value.status, info.value.code) == (400, "invalid")


# --- dust and lots -----------------------------------------------------------------------------


def test_plan__min_trade_notional__drops_deltas_below_threshold_keeps_equal() -> None:
    plan = plan_of(
        body(
            min_trade_notional=50,
            positions=[
                pos("w1", "s", "BTC", 2, 100),  # -1 @ 100 = 100: kept
                pos("w1", "s", "ETH", 10, 10),  # -5 @ 10 = 50: kept (not below)
                pos("w1", "s", "SOL", 9.8, 10),  # -4.9 @ 10 = 49: dropped
            ],
        )
    )
    assert [d.symbol for d in plan.per_world["w1"].deltas] == ["BTC", "ETH"]
    assert [d.symbol for d in plan.global_deltas] == ["BTC", "ETH"]


def test_plan__lot_size__rounds_toward_zero_then_filters_on_rounded_notional() -> None:
    # w1: 0.3 -> 0.2, scale 2/3. BTC 10 -> -3.333.. -> lot 0.5 -> -3.0.
    # ETH 1.4 -> -0.4666.. -> lot 0.5 -> 0 (dropped).
    # SOL 30 @ 10 -> -10 -> lot 4 -> -8 -> notional 80 < 90: dropped although 100 before rounding.
    plan = plan_of(
        body(
            world_alloc_before={"w1": 0.3},
            world_alloc_after={"w1": 0.2},
            min_trade_notional=90,
            lot_size_by_symbol={"BTC": 0.5, "ETH": 0.5, "SOL": 4},
            positions=[
                pos("w1", "s", "BTC", 10, 100),
                pos("w1", "s", "ETH", 1.4, 1000),
                pos("w1", "s", "SOL", 30, 10),
            ],
        )
    )
    assert_deltas(plan.per_world["w1"].deltas, [("BTC", -3.0, None)])


# --- across worlds -----------------------------------------------------------------------------


def test_plan__offsetting_worlds__global_deltas_net_per_symbol_and_venue() -> None:
    plan = plan_of(
        body(
            world_alloc_before={"w1": 0.2, "w2": 0.4},
            world_alloc_after={"w1": 0.3, "w2": 0.3},
            positions=[
                pos("w1", "s1", "BTC", 10, 100, "binance"),  # * 0.5 -> +5
                pos("w2", "s2", "BTC", 20, 100, "binance"),  # * -0.25 -> -5
                pos("w2", "s2", "BTC", 8, 100, "kraken"),  # * -0.25 -> -2 (other venue)
                pos("w1", "s1", "ETH", 4, 10),  # * 0.5 -> +2
                pos("w2", "s2", "ETH", 4, 10),  # * -0.25 -> -1
            ],
        )
    )
    assert plan.per_world["w1"].scale_world == pytest.approx(1.5)
    assert plan.per_world["w2"].scale_world == pytest.approx(0.75)
    assert_deltas(plan.per_world["w1"].deltas, [("BTC", 5.0, "binance"), ("ETH", 2.0, None)])
    assert_deltas(
        plan.per_world["w2"].deltas,
        [("BTC", -5.0, "binance"), ("BTC", -2.0, "kraken"), ("ETH", -1.0, None)],
    )
    # binance BTC nets to zero and disappears; kraken stays apart; ETH nets to +1.
    assert_deltas(plan.global_deltas, [("BTC", -2.0, "kraken"), ("ETH", 1.0, None)])


def test_plan__net_below_min_notional__dropped_from_global_only() -> None:
    plan = plan_of(
        body(
            min_trade_notional=100,
            world_alloc_before={"w1": 0.2, "w2": 0.4},
            world_alloc_after={"w1": 0.3, "w2": 0.3},
            positions=[
                pos("w1", "s1", "BTC", 10, 100),  # +5 -> 500
                pos("w2", "s2", "BTC", 24, 100),  # -6 -> 600; net -1 -> 100: kept
                pos("w1", "s1", "ETH", 40, 10),  # +20 -> 200
                pos("w2", "s2", "ETH", 84, 10),  # -21 -> 210; net -1 -> 10: dropped
            ],
        )
    )
    assert len(plan.per_world["w1"].deltas) == 2
    assert len(plan.per_world["w2"].deltas) == 2
    assert_deltas(plan.global_deltas, [("BTC", -1.0, None)])


def test_plan__deltas__sorted_by_symbol_then_venue_none_first() -> None:
    plan = plan_of(
        body(
            positions=[
                pos("w1", "s", "ZZZ", 2, 1),
                pos("w1", "s", "AAA", 2, 1, "kraken"),
                pos("w1", "s", "AAA", 2, 1),
                pos("w1", "s", "AAA", 2, 1, "binance"),
            ]
        )
    )
    keys = [(d.symbol, d.venue) for d in plan.per_world["w1"].deltas]
    assert keys == [("AAA", None), ("AAA", "binance"), ("AAA", "kraken"), ("ZZZ", None)]


# --- overlay -----------------------------------------------------------------------------------


def test_plan__overlay_mode__hedges_world_notional_change_in_its_instrument() -> None:
    # w1: 0.5 -> 0.25, notional 2*100 + 8*100 = 1000 -> change -500 -> ES @ 50 -> -10.
    # w2: 0.2 -> 0.3, notional 400 -> change +200 -> ES @ 50 -> +4; nets with w1 to -6.
    # w3: 0.1 -> 0.05, notional 100 -> change -50 -> NQ @ 25 -> -2.
    plan = plan_of(
        body(
            mode="overlay",
            world_alloc_before={"w1": 0.5, "w2": 0.2, "w3": 0.1},
            world_alloc_after={"w1": 0.25, "w2": 0.3, "w3": 0.05},
            overlay={
                "instrument_by_world": {"w1": "ES", "w2": "ES", "w3": "NQ"},
                "price_by_symbol": {"ES": 50, "NQ": 25},
            },
            positions=[
                pos("w1", "s1", "BTC", 2, 100),
                pos("w1", "s2", "ETH", 8, 100),
                pos("w2", "s3", "BTC", 4, 100),
                pos("w3", "s4", "SOL", 10, 10),
            ],
        )
    )
    assert plan.overlay_deltas is not None
    assert_deltas(plan.overlay_deltas, [("ES", -6.0, None), ("NQ", -2.0, None)])
    # The scaling alternative is still reported.
    assert plan.per_world["w1"].deltas[0] == SymbolDelta("BTC", -1.0, None)


def test_plan__overlay_min_order_notional__filters_overlay_only() -> None:
    plan = plan_of(
        body(
            mode="overlay",
            overlay={
                "instrument_by_world": {"w1": "ES"},
                "price_by_symbol": {"ES": 50},
                "min_order_notional": 150,
            },
            positions=[pos("w1", "s1", "BTC", 2, 100)],  # change -100 < 150
        )
    )
    assert plan.overlay_deltas == ()
    assert_deltas(plan.per_world["w1"].deltas, [("BTC", -1.0, None)])


def test_plan__scaling_mode__no_overlay_deltas() -> None:
    assert plan_of(body()).overlay_deltas is None
