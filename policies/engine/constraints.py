"""Steps 5–6 after ranking: top-k, the correlation constraint and equal-weight exposure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from policies.dsl.model import SIDES, ExposureConstraint, Side, TopK
from policies.engine.inputs import CorrelationPair
from policies.engine.metrics import as_metric_value
from policies.engine.result import TOPK_CUT, TOPK_SIDE_CUT


def topk_cuts(ranked: Sequence[tuple[str, Side]], topk: TopK | None) -> dict[str, tuple[str, ...]]:
    """Walk the ranked list; the strategies beyond `total` or `by_side[side]`, with the reasons.

    Every cut strategy gets `topk_cut`; one cut by its side's limit also gets `topk_side_cut`.

    A strategy cut for its side does not use up a place of `total`. A side not named in `by_side`
    has no per-side limit.
    """
    if topk is None:
        return {}
    total = topk.total
    side_limits = dict(topk.by_side)
    side_counts = dict.fromkeys(SIDES, 0)
    kept = 0
    cuts: dict[str, tuple[str, ...]] = {}
    for strategy_id, side in ranked:
        limit = side_limits.get(side)
        if limit is not None and side_counts[side] >= limit:
            cuts[strategy_id] = (TOPK_CUT, TOPK_SIDE_CUT)
        elif total is not None and kept >= total:
            cuts[strategy_id] = (TOPK_CUT,)
        else:
            kept += 1
            side_counts[side] += 1
    return cuts


def correlation_drops(
    ranked: Sequence[str], correlations: Iterable[CorrelationPair], max_pairwise: float
) -> set[str]:
    """Walk `ranked`; drop each strategy whose |correlation| with one already kept > max_pairwise.

    Only pairs of two strategies in `ranked` are indexed, so the work is one pass over the pairs
    plus one set lookup per conflict. A pair that is missing, or whose value is not a finite number,
    counts as 0. When a pair is given twice (in either order) the last value wins; a strategy
    paired with itself is ignored.
    """
    conflicts = _conflicts(_pair_index(set(ranked), correlations), max_pairwise)
    kept: set[str] = set()
    dropped: set[str] = set()
    for strategy_id in ranked:
        if any(other in kept for other in conflicts.get(strategy_id, ())):
            dropped.add(strategy_id)
        else:
            kept.add(strategy_id)
    return dropped


def _pair_index(
    members: AbstractSet[str], correlations: Iterable[CorrelationPair]
) -> dict[tuple[str, str], float]:
    """|correlation| per unordered pair of two distinct members; the last value given wins."""
    pairs: dict[tuple[str, str], float] = {}
    for a, b, raw in correlations:
        if a == b or a not in members or b not in members:
            continue
        value = as_metric_value(raw)
        pairs[(a, b) if a < b else (b, a)] = abs(value) if value is not None else 0.0
    return pairs


def _conflicts(pairs: dict[tuple[str, str], float], max_pairwise: float) -> dict[str, list[str]]:
    """For each strategy, the others it is too correlated with."""
    conflicts: dict[str, list[str]] = {}
    for (a, b), value in pairs.items():
        if value > max_pairwise:
            conflicts.setdefault(a, []).append(b)
            conflicts.setdefault(b, []).append(a)
    return conflicts


@dataclass(frozen=True, slots=True)
class Weight:
    value: float
    capped: bool


def equal_weights(
    members: Sequence[tuple[str, Side]], exposure: ExposureConstraint | None
) -> dict[str, Weight]:
    """Equal weights per side inside `gross_budget[side]`, each capped at `max_weight`.

    A side without a budget (and every side when there is no `gross_budget`) takes the default:
    1.0 split over all members, i.e. `1 / len(members)` each. A capped weight's excess is not
    handed to the others; the budget is a ceiling, not a target.
    """
    if not members:
        return {}
    budgets = dict(exposure.gross_budget) if exposure is not None else {}
    max_weight = exposure.max_weight if exposure is not None else None
    per_side = dict.fromkeys(SIDES, 0)
    for _, side in members:
        per_side[side] += 1
    default = 1.0 / len(members)
    weights: dict[str, Weight] = {}
    for strategy_id, side in members:
        budget = budgets.get(side)
        weight = budget / per_side[side] if budget is not None else default
        if max_weight is not None and weight > max_weight:
            weights[strategy_id] = Weight(value=max_weight, capped=True)
        else:
            weights[strategy_id] = Weight(value=weight, capped=False)
    return weights
