"""Steps 1–2: is there enough data to judge a strategy at all?

- **Data currency** (step 1): `history_days` against `data_currency.min_history`, compared in days.
  `data_currency.max_lag` is a world-level check of the decide ladder, not read here.
- **Sample** (step 2): `sample_days`, `trades` (falling back to `n_trades_total`) and `bars`
  against the `sample` minimums.

A minimum that is set and whose metric is missing makes the strategy insufficient: the sample
cannot be shown to suffice. Both steps run for every strategy, so every failed minimum is
reported. An insufficient strategy gets no gates, no score and no rank.
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.dsl.model import Sample
from policies.engine.compiler import CompiledPolicy
from policies.engine.result import INSUFFICIENT_HISTORY, INSUFFICIENT_SAMPLE
from policies.engine.work import StrategyWork


def check_data_currency(works: Sequence[StrategyWork], compiled: CompiledPolicy) -> None:
    """Step 1: mark the strategies whose history is shorter than the policy's minimum."""
    slot, minimum = compiled.history_slot, compiled.min_history_days
    if slot is None or minimum is None:
        return
    for work in works:
        if _below(work.values, slot, minimum):
            work.reasons.append(INSUFFICIENT_HISTORY)
            work.status = "insufficient"


def check_sample(works: Sequence[StrategyWork], compiled: CompiledPolicy, sample: Sample) -> None:
    """Step 2: mark the strategies whose sample is below any of the `sample` minimums."""
    for work in works:
        values = work.values
        if (
            _below(values, compiled.sample_days_slot, sample.min_days)
            or _below(values, _trades_slot(values, compiled), sample.min_trades)
            or _below(values, compiled.sample_bars_slot, sample.min_bars)
        ):
            work.reasons.append(INSUFFICIENT_SAMPLE)
            work.status = "insufficient"


def sufficient(works: Sequence[StrategyWork]) -> list[StrategyWork]:
    """The strategies that steps 1–2 did not mark insufficient, in order."""
    return [work for work in works if work.status != "insufficient"]


def _trades_slot(values: Sequence[float | None], compiled: CompiledPolicy) -> int | None:
    """`trades`, or `n_trades_total` when `trades` is missing."""
    slots = compiled.sample_trades_slots
    if slots is None:
        return None
    trades_slot, alias_slot = slots
    return alias_slot if values[trades_slot] is None else trades_slot


def _below(values: Sequence[float | None], slot: int | None, minimum: float | None) -> bool:
    if slot is None or minimum is None:
        return False
    value = values[slot]
    return value is None or value < minimum
