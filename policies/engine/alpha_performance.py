"""The six `alpha_performance.*` metrics of a return series.

Defined in docs/policy-language.md#12-the-alpha_performance-metrics.

They are computed from one series of per-period returns, not annualised, with a risk-free rate of
zero. The same numbers are the `alpha_metrics` of rebalancing v2, so this module is shared.

- sharpe: mean / population standard deviation (0 when the deviation is 0).
- max_drawdown: the most negative value of cumulative return (the plain sum of returns) minus its
  running peak; the peak starts at 0, so the value is ≤ 0.
- win_ratio: the share of returns > 0.
- profit_factor: the sum of gains / |the sum of losses|.
- car_mdd: (∏(1 + r) − 1) / |max_drawdown|.
- rar_mdd: sharpe / |max_drawdown|.

A value that is not finite (no losses, no drawdown, overflow) is reported as 0.0, and so is every
key when no usable point is left.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Real
from typing import Final

SHARPE: Final = "alpha_performance.sharpe"
MAX_DRAWDOWN: Final = "alpha_performance.max_drawdown"
WIN_RATIO: Final = "alpha_performance.win_ratio"
PROFIT_FACTOR: Final = "alpha_performance.profit_factor"
CAR_MDD: Final = "alpha_performance.car_mdd"
RAR_MDD: Final = "alpha_performance.rar_mdd"

ALPHA_KEYS: Final[tuple[str, ...]] = (
    SHARPE,
    MAX_DRAWDOWN,
    WIN_RATIO,
    PROFIT_FACTOR,
    CAR_MDD,
    RAR_MDD,
)

#: Points larger than this in magnitude are read as missing, like NaN: no return, P&L or equity
#: comes near it, and beyond it sums and squares of many points could leave the float range.
MAX_POINT_MAGNITUDE: Final = 1e15

#: The series kinds, in the order they are preferred.
SERIES_KINDS: Final[tuple[str, ...]] = ("returns", "pnl", "equity")


def empty_alpha_metrics() -> dict[str, float]:
    """Every key at 0.0: the value when there is no data."""
    return dict.fromkeys(ALPHA_KEYS, 0.0)


def alpha_metrics_from_returns(returns: Iterable[object]) -> dict[str, float]:
    """The six metrics of a series of per-period returns; non-finite points, and points beyond
    `MAX_POINT_MAGNITUDE`, are dropped."""
    points = _finite_points(returns)
    if not points:
        return empty_alpha_metrics()

    count = len(points)
    mean = math.fsum(points) / count
    # A constant series has no spread; computing it would leave rounding noise of ~1e-17 that
    # turns into an absurd sharpe, so it is exactly 0 here.
    if max(points) == min(points):
        std = 0.0
    else:
        std = math.sqrt(math.fsum((x - mean) ** 2 for x in points) / count)
    sharpe = mean / std if std > 0.0 else 0.0

    cumulative = 0.0
    peak = 0.0
    max_drawdown = 0.0
    growth = 1.0
    wins = 0
    gains: list[float] = []
    losses: list[float] = []
    for r in points:
        cumulative += r
        peak = max(peak, cumulative)
        max_drawdown = min(max_drawdown, cumulative - peak)
        growth *= 1.0 + r
        if r > 0.0:
            wins += 1
            gains.append(r)
        elif r < 0.0:
            losses.append(r)

    loss_total = abs(math.fsum(losses))
    drawdown = abs(max_drawdown)
    return {
        SHARPE: _finite_or_zero(sharpe),
        MAX_DRAWDOWN: _finite_or_zero(max_drawdown),
        WIN_RATIO: wins / count,
        PROFIT_FACTOR: _ratio(math.fsum(gains), loss_total),
        CAR_MDD: _ratio(growth - 1.0, drawdown),
        RAR_MDD: _ratio(sharpe, drawdown),
    }


def returns_from_series(series: Mapping[str, Sequence[object] | None]) -> list[float]:
    """Pick the return series: `returns` as given, else `pnl` as returns, else equity changes.

    A kind counts as given when its key is present and not None (an empty list is "no data", it
    does not fall through to the next kind). Equity points that are not finite are dropped before
    the simple returns `e[i] / e[i-1] - 1` are taken; a return that is not finite (equity of 0) is
    dropped as well.
    """
    returns = series.get("returns")
    if returns is not None:
        return _finite_points(returns)
    pnl = series.get("pnl")
    if pnl is not None:
        return _finite_points(pnl)
    equity = series.get("equity")
    if equity is None:
        return []
    levels = _finite_points(equity)
    out: list[float] = []
    for before, after in zip(levels, levels[1:], strict=False):
        if before == 0.0:
            continue
        change = after / before - 1.0
        if math.isfinite(change) and abs(change) <= MAX_POINT_MAGNITUDE:
            out.append(change)
    return out


def alpha_metrics_from_series(series: Mapping[str, Sequence[object] | None]) -> dict[str, float]:
    """The six metrics of a `{"returns" | "pnl" | "equity": [...]}` series.

    The series is picked as `returns_from_series` says.
    """
    return alpha_metrics_from_returns(returns_from_series(series))


def _finite_points(values: Iterable[object]) -> list[float]:
    out: list[float] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real):
            continue
        number = float(value)
        if math.isfinite(number) and abs(number) <= MAX_POINT_MAGNITUDE:
            out.append(number)
    return out


def _ratio(numerator: float, denominator: float) -> float:
    if denominator == 0.0:
        return 0.0
    return _finite_or_zero(numerator / denominator)


def _finite_or_zero(value: float) -> float:
    return value if math.isfinite(value) else 0.0
