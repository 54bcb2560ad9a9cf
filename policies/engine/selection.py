"""Steps 5–6: rank the gate-passers, cut to top-k, then drop correlated strategies.

In that order: rank (score descending, unscored last, ties by id), cut to `topk` (a strategy cut
for its side does not use a place of `total`), then walk what is left in rank order and drop each
strategy too correlated with one already kept. Dropping does not pull in the next candidate.
What survives is `selected`. Exposure is not applied here: weights are computed after hysteresis,
over the active set (step 8).
"""

from __future__ import annotations

from collections.abc import Sequence

from policies.dsl.model import CorrelationConstraint, TopK
from policies.engine.constraints import correlation_drops, topk_cuts
from policies.engine.inputs import CorrelationPair
from policies.engine.result import CORRELATION_DROPPED, TOPK_SELECTED
from policies.engine.work import StrategyWork


def rank_gate_passers(works: Sequence[StrategyWork]) -> list[StrategyWork]:
    """Step 5a: the strategies with status `pass`, in rank order, each given its `rank`."""
    ranked = sorted((work for work in works if work.status == "pass"), key=_rank_key)
    for position, work in enumerate(ranked, start=1):
        work.rank = position
    return ranked


def cut_to_topk(ranked: Sequence[StrategyWork], topk: TopK | None) -> list[StrategyWork]:
    """Step 5b: the ranked strategies within top-k, in rank order; the others get their reasons."""
    cuts = topk_cuts([(work.strategy_id, work.side) for work in ranked], topk)
    survivors: list[StrategyWork] = []
    for work in ranked:
        cut = cuts.get(work.strategy_id)
        if cut is None:
            work.reasons.append(TOPK_SELECTED)
            survivors.append(work)
        else:
            work.reasons.extend(cut)
    return survivors


def select_uncorrelated(
    survivors: Sequence[StrategyWork],
    correlations: Sequence[CorrelationPair],
    constraint: CorrelationConstraint | None,
) -> None:
    """Step 6: mark the top-k survivors `selected`, except those dropped for correlation."""
    dropped = (
        correlation_drops(
            [work.strategy_id for work in survivors], correlations, constraint.max_pairwise
        )
        if constraint is not None and survivors
        else set()
    )
    for work in survivors:
        if work.strategy_id in dropped:
            work.reasons.append(CORRELATION_DROPPED)
        else:
            work.selected = True


def _rank_key(work: StrategyWork) -> tuple[bool, float, str]:
    score = work.score
    return (score is None, -score if score is not None else 0.0, work.strategy_id)
