"""The arithmetic of proportional rebalancing: scale factors, lot rounding and dust filtering.

All functions are pure and work on floats; see docs/rebalancing.md for the rules in prose.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

from .types import Position, SymbolDelta

#: Two lot multiples closer than this (relative) are the same multiple: absorbs float noise such as
#: 0.3 / 0.1 == 2.9999999999999996.
LOT_TOLERANCE: Final = 1e-9
#: A summed delta this small relative to the quantities it came from is float noise, i.e. zero.
ZERO_TOLERANCE: Final = 1e-12

DeltaKey = tuple[str, str | None]  # (symbol, venue)


def world_scale(before: float, after: float) -> float:
    """`after / before`; with no prior allocation: 1.0 if the world keeps any allocation, else 0.0.

    A world that had nothing allocated cannot be scaled from its allocation; its positions (if any)
    are kept as they are when it gets an allocation, and closed when it gets none.
    """
    if before <= 0.0:
        return 1.0 if after > 0.0 else 0.0
    return after / before


def strategy_scale(
    *,
    world_scale_factor: float,
    before_total: float | None,
    after_total: float | None,
) -> float:
    """Scale of one strategy's positions in one world.

    Without a target allocation for the strategy the world scale cascades unchanged. With one, the
    strategy is scaled by `after_total / before_total` (both are fractions of total equity, so the
    world change is already inside them and is not applied twice). A strategy that had no
    allocation before keeps following the world when it is given one, and is closed when it is not.
    """
    if after_total is None:
        return world_scale_factor
    before = before_total or 0.0
    if before <= 0.0:
        return world_scale_factor if after_total > 0.0 else 0.0
    return after_total / before


def round_to_lot(qty: float, lot: float | None) -> float:
    """Round `qty` toward zero to a whole number of `lot`s (no lot, or a lot <= 0: unchanged)."""
    if lot is None or lot <= 0.0 or not math.isfinite(lot) or not math.isfinite(qty):
        return qty
    steps = qty / lot
    nearest = round(steps)
    if abs(steps - nearest) <= LOT_TOLERANCE * max(1.0, abs(steps)):
        whole = int(nearest)
    else:
        whole = math.trunc(steps)
    if whole == 0:
        return 0.0
    # Decimal keeps 3 * 0.1 at 0.3 instead of 0.30000000000000004.
    return float(Decimal(repr(lot)) * whole)


def reference_marks(positions: Iterable[Position]) -> dict[DeltaKey, float]:
    """Mean mark per (symbol, venue): the price a delta's notional is judged at."""
    sums: dict[DeltaKey, float] = {}
    counts: dict[DeltaKey, int] = {}
    for position in positions:
        key = (position.symbol, position.venue)
        sums[key] = sums.get(key, 0.0) + position.mark
        counts[key] = counts.get(key, 0) + 1
    return {key: sums[key] / counts[key] for key in sums}


def finish_deltas(
    raw: Mapping[DeltaKey, float],
    gross: Mapping[DeltaKey, float],
    marks: Mapping[DeltaKey, float],
    *,
    min_trade_notional: float,
    lot_size_by_symbol: Mapping[str, float] | None,
) -> tuple[SymbolDelta, ...]:
    """Turn summed raw quantities into tradeable deltas.

    Per (symbol, venue): snap float noise to zero, round toward zero to the symbol's lot, drop the
    delta when its notional at the reference mark is below `min_trade_notional` or when nothing is
    left; the result is sorted by symbol then venue (no venue first).
    """
    lots = lot_size_by_symbol or {}
    out: list[SymbolDelta] = []
    for key in sorted(raw, key=delta_sort_key):
        symbol, venue = key
        qty = raw[key]
        if abs(qty) <= ZERO_TOLERANCE * max(1.0, gross.get(key, 0.0)):
            continue
        qty = round_to_lot(qty, lots.get(symbol))
        if qty == 0.0:
            continue
        if abs(qty * marks.get(key, 0.0)) < min_trade_notional:
            continue
        out.append(SymbolDelta(symbol=symbol, delta_qty=qty, venue=venue))
    return tuple(out)


def delta_sort_key(key: DeltaKey) -> tuple[str, bool, str]:
    symbol, venue = key
    return (symbol, venue is not None, venue or "")
