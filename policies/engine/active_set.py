"""Step 8: the active set's order, its weights, the plan, and the state to keep.

- **Order**: by rank, then the unranked strategies (held by hysteresis despite failing) by id. The
  set may briefly exceed top-k: that is what hysteresis is for.
- **Weights** over the final active set (not the selected set): equal per side inside
  `gross_budget[side]`, a side without a budget `1 / len(active)` each, each capped at
  `max_weight` with the excess left unallocated. Inactive strategies have weight None.
- **Plan**: `activate` = active − previous (in active order), `deactivate` = previous − active
  (by id).
- **State**: with `advance_state` the input entries plus one new entry per evaluated strategy;
  without it the input mapping itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet

from policies.dsl.model import ExposureConstraint
from policies.engine.constraints import equal_weights
from policies.engine.result import WEIGHT_CAPPED, Plan
from policies.engine.state import HysteresisState
from policies.engine.work import StrategyWork


def order_active(active: Sequence[StrategyWork]) -> list[StrategyWork]:
    """Step 8a: the active strategies by rank, then the unranked ones by id."""
    return sorted(active, key=_active_key)


def assign_weights(
    active: Sequence[StrategyWork], exposure: ExposureConstraint | None
) -> dict[str, float]:
    """Step 8b: each active strategy's weight, by id (and `weight_capped` where the cap bit)."""
    weights = equal_weights([(work.strategy_id, work.side) for work in active], exposure)
    for work in active:
        weight = weights[work.strategy_id]
        work.weight = weight.value
        if weight.capped:
            work.reasons.append(WEIGHT_CAPPED)
    return {work.strategy_id: weights[work.strategy_id].value for work in active}


def plan_changes(active_ids: Sequence[str], previous: AbstractSet[str]) -> Plan:
    """Step 8c: what to switch on and off to go from `previous` to the active set."""
    active_set = set(active_ids)
    return Plan(
        activate=tuple(sid for sid in active_ids if sid not in previous),
        deactivate=tuple(sorted(sid for sid in previous if sid not in active_set)),
    )


def next_state(
    state: Mapping[str, HysteresisState],
    new_states: Mapping[str, HysteresisState],
    *,
    advance_state: bool,
) -> Mapping[str, HysteresisState]:
    """Step 8d: the hysteresis state to keep (the input itself when the run does not advance it)."""
    return {**state, **new_states} if advance_state else state


def _active_key(work: StrategyWork) -> tuple[bool, int, str]:
    rank = work.rank
    return (rank is None, rank if rank is not None else 0, work.strategy_id)
