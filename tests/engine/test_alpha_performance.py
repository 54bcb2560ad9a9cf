"""alpha_performance.* on hand-computed series.

As docs/policy-language.md#12-the-alpha_performance-metrics defines them.
"""

from __future__ import annotations

import math

import pytest

from policies.engine.alpha_performance import (
    ALPHA_KEYS,
    alpha_metrics_from_returns,
    alpha_metrics_from_series,
)

# Given the returns 0.10, -0.05, 0.02, -0.03 (worked by hand):
#   mean 0.01; squared deviations .0081 .0036 .0001 .0016 → population variance 0.00335
#   cumulative 0.10 0.05 0.07 0.04, peak 0.10 → max drawdown −0.06
#   gains 0.12, losses 0.08; growth 1.1 · 0.95 · 1.02 · 0.97 = 1.033923
RETURNS = [0.10, -0.05, 0.02, -0.03]
STD = math.sqrt(0.00335)
SHARPE = 0.01 / STD


def test_alpha_metrics_from_returns__mixed_series__hand_computed_values() -> None:
    metrics = alpha_metrics_from_returns(RETURNS)

    assert metrics == {
        "alpha_performance.sharpe": pytest.approx(SHARPE),
        "alpha_performance.max_drawdown": pytest.approx(-0.06),
        "alpha_performance.win_ratio": 0.5,
        "alpha_performance.profit_factor": pytest.approx(1.5),
        "alpha_performance.car_mdd": pytest.approx(0.033923 / 0.06),
        "alpha_performance.rar_mdd": pytest.approx(SHARPE / 0.06),
    }
    assert list(metrics) == list(ALPHA_KEYS)


def test_alpha_metrics_from_returns__no_data__all_zero() -> None:
    assert alpha_metrics_from_returns([]) == dict.fromkeys(ALPHA_KEYS, 0.0)


def test_alpha_metrics_from_returns__only_gains__infinite_ratios_reported_as_zero() -> None:
    # Given no loss and no drawdown, profit_factor, car_mdd and rar_mdd are not finite.
    metrics = alpha_metrics_from_returns([0.01, 0.02])

    assert metrics["alpha_performance.sharpe"] == pytest.approx(0.015 / 0.005)
    assert metrics["alpha_performance.max_drawdown"] == 0.0
    assert metrics["alpha_performance.win_ratio"] == 1.0
    assert metrics["alpha_performance.profit_factor"] == 0.0
    assert metrics["alpha_performance.car_mdd"] == 0.0
    assert metrics["alpha_performance.rar_mdd"] == 0.0


def test_alpha_metrics_from_returns__constant_series__sharpe_zero() -> None:
    # Given a std of exactly 0 (rounding noise must not make it 1e-17).
    metrics = alpha_metrics_from_returns([0.1, 0.1, 0.1])

    assert metrics["alpha_performance.sharpe"] == 0.0
    assert metrics["alpha_performance.rar_mdd"] == 0.0


def test_alpha_metrics_from_returns__drawdown_from_start__peak_starts_at_zero() -> None:
    # Given cumulative −0.02, −0.05, −0.01: the peak stays 0, the drawdown is −0.05.
    metrics = alpha_metrics_from_returns([-0.02, -0.03, 0.04])

    assert metrics["alpha_performance.max_drawdown"] == pytest.approx(-0.05)
    assert metrics["alpha_performance.win_ratio"] == pytest.approx(1 / 3)
    assert metrics["alpha_performance.profit_factor"] == pytest.approx(0.04 / 0.05)
    growth = 0.98 * 0.97 * 1.04 - 1
    assert metrics["alpha_performance.car_mdd"] == pytest.approx(growth / 0.05)


def test_alpha_metrics_from_returns__non_finite_points__dropped() -> None:
    # Given NaN, ±inf, None, a string and a boolean among the points.
    noisy = [0.10, math.nan, -0.05, math.inf, None, 0.02, "x", True, -math.inf, -0.03]

    assert alpha_metrics_from_returns(noisy) == alpha_metrics_from_returns(RETURNS)


def test_alpha_metrics_from_returns__only_non_finite__all_zero() -> None:
    assert alpha_metrics_from_returns([math.nan, math.inf]) == dict.fromkeys(ALPHA_KEYS, 0.0)


def test_alpha_metrics_from_series__returns_given__returns_win_over_pnl_and_equity() -> None:
    metrics = alpha_metrics_from_series(
        {"returns": RETURNS, "pnl": [1.0, 2.0], "equity": [1.0, 5.0]}
    )

    assert metrics == alpha_metrics_from_returns(RETURNS)


def test_alpha_metrics_from_series__only_pnl__pnl_used_as_returns() -> None:
    metrics = alpha_metrics_from_series({"pnl": RETURNS, "equity": [1.0, 5.0]})

    assert metrics == alpha_metrics_from_returns(RETURNS)


def test_alpha_metrics_from_series__only_equity__simple_returns_of_equity() -> None:
    # Given equity 100 → 110 → 99 → 99: returns +0.10, −0.10, 0.
    metrics = alpha_metrics_from_series({"equity": [100.0, 110.0, math.nan, 99.0, 99.0]})

    assert metrics == pytest.approx(alpha_metrics_from_returns([0.10, -0.10, 0.0]))
    assert metrics["alpha_performance.win_ratio"] == pytest.approx(1 / 3)


def test_alpha_metrics_from_series__equity_through_zero__undefined_return_dropped() -> None:
    # Given 0 → 5 has no simple return; 100 → 0 is −100 %, 5 → 10 is +100 %.
    metrics = alpha_metrics_from_series({"equity": [100.0, 0.0, 5.0, 10.0]})

    assert metrics == pytest.approx(alpha_metrics_from_returns([-1.0, 1.0]))


def test_alpha_metrics_from_series__empty_returns_key__no_fall_through() -> None:
    # Given returns present but empty: no data, the pnl is not used instead.
    metrics = alpha_metrics_from_series({"returns": [], "pnl": RETURNS})

    assert metrics == dict.fromkeys(ALPHA_KEYS, 0.0)


def test_alpha_metrics_from_series__no_known_kind__all_zero() -> None:
    assert alpha_metrics_from_series({"prices": [1.0, 2.0]}) == dict.fromkeys(ALPHA_KEYS, 0.0)
