"""One evaluation of a world policy, as a pure function and a fixed sequence of named stages.

`evaluate(policy, inputs, state, advance_state=...)` reads no clock, database or settings, and
mutates none of its arguments. The same arguments give the same result.

The stages, in order (docs/decisions.md, "The evaluation stages"). Each takes the strategies'
records (`work.StrategyWork`), fills in its part and appends its reason codes, so a strategy's
reasons always read in stage order:

- which strategies, with their metric values: `roster.strategies_to_evaluate`;
- step 1, data currency (enough history): `sufficiency.check_data_currency`;
- step 2, sample sufficiency: `sufficiency.check_sample`;
- step 3, gates (`status` pass / fail): `gates.apply_gates`;
- step 4, score: `scoring.apply_score`;
- step 5, rank the gate-passers and cut to top-k: `selection.rank_gate_passers`, `cut_to_topk`;
- step 6, the correlation constraint (`selected`): `selection.select_uncorrelated`;
- step 7, hysteresis (the active set, the new state): `hysteresis.apply_hysteresis`;
- step 8, the active set's order, weights, plan and the state to keep: `active_set.order_active`,
  `assign_weights`, `plan_changes`, `next_state`.

Design choices (where the policy language leaves room; each stage's module says more):

- **Which strategies.** Every strategy in `inputs.strategies` (in that order), then every strategy
  in `inputs.previous` that has no entry (sorted by id): it is evaluated with empty metrics and
  the reason `metrics_absent`, so its hysteresis counts a failure and it is demoted in due course
  rather than silently kept or dropped (its side is unknown and taken as long while it is held).
  Strategies known only to `state` are not evaluated; their state is carried over unchanged.
- **Metrics.** Lookup and "missing" are in `metrics.py`. A strategy with a series gets the six
  `alpha_performance.*` keys computed from it; they win over same-named input keys.
- **Steps 1–2.** A minimum that is set and whose metric is missing makes the strategy
  insufficient (the sample cannot be shown to suffice). `history_days` is compared with
  `min_history_seconds / 86400`; `trades` falls back to `n_trades_total`. Every failed minimum is
  reported. Insufficient strategies get no gates, no score and no rank. `data_currency.max_lag` is
  a world-level check of the decide ladder, not a per-strategy step, and is not read here.
- **Status.** `insufficient`, else `pass` / `fail` by the gates (no gates: pass). `selected` is
  the separate "also survived top-k and the correlation constraint" flag.
- **Gates.** Every comparison is evaluated and reported, in document order, even where `and`/`or`
  would short-circuit; the tree is then combined from those outcomes. An empty `and` passes, an
  empty `or` fails.
- **Score.** Computed for `pass` and `fail` strategies (it is informative), ranked only among
  `pass`. Any non-finite intermediate value (overflow) counts as a domain error: no score.
- **Rank / top-k / constraints.** In this order: rank the gate-passers (score desc, unscored
  last, ties by id), cut to top-k (a strategy cut for its side does not use a place of `total`),
  then drop correlated ones from what is left. Dropping does not pull in the next candidate.
- **Hysteresis pass** = selected (steps 1–6) and, with bands, the band metric ≥ `exit` for a
  previously active strategy, ≥ `enter` for the others (missing metric: band not met). See
  `hysteresis.py` for counting, dwell and how the stored `active` flag is used.
- **Active set** = the hysteresis outcome: previously active strategies that were not demoted plus
  promoted ones; ordered by rank, then the unranked ones (held by hysteresis despite failing) by
  id. It may briefly exceed top-k: that is what hysteresis is for.
- **Weights** are computed over the final active set (not the selected set), equal per side
  inside `gross_budget[side]`; a side without a budget gets `1 / len(active)` each; each weight
  capped at `max_weight`, the excess left unallocated. Inactive strategies have weight None.
- **Plan.** `activate` = active − previous (in active order), `deactivate` = previous − active
  (by id).
- **State.** With `advance_state` a new mapping: the input entries plus one new entry per
  evaluated strategy. Without it the input mapping itself is returned; the per-strategy
  hysteresis output still shows what this run would do.
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.dsl.model import Policy
from policies.engine.active_set import assign_weights, next_state, order_active, plan_changes
from policies.engine.compiler import compile_policy
from policies.engine.gates import apply_gates
from policies.engine.hysteresis import apply_hysteresis
from policies.engine.inputs import EvaluationInput
from policies.engine.result import EvaluationResult
from policies.engine.roster import strategies_to_evaluate
from policies.engine.scoring import apply_score
from policies.engine.selection import cut_to_topk, rank_gate_passers, select_uncorrelated
from policies.engine.state import HysteresisState
from policies.engine.sufficiency import check_data_currency, check_sample, sufficient


def evaluate(
    policy: Policy,
    inputs: EvaluationInput,
    state: Mapping[str, HysteresisState],
    *,
    advance_state: bool,
) -> EvaluationResult:
    """Run the evaluation stages in order (the module docstring lists them and the choices made)."""
    compiled = compile_policy(policy)
    selection = policy.selection

    works = strategies_to_evaluate(inputs, compiled)
    check_data_currency(works, compiled)  # step 1
    check_sample(works, compiled, policy.sample)  # step 2
    judged = sufficient(works)
    apply_gates(judged, compiled, policy.validation.on_missing_metric)  # step 3
    apply_score(judged, compiled)  # step 4
    ranked = rank_gate_passers(works)  # step 5
    survivors = cut_to_topk(ranked, selection.topk)
    select_uncorrelated(  # step 6
        survivors, inputs.correlations, selection.constraints.correlation
    )
    held, new_states = apply_hysteresis(  # step 7
        works,
        params=selection.hysteresis,
        band_slot=compiled.band_slot,
        state=state,
        as_of=inputs.as_of,
    )
    active = order_active(held)  # step 8
    weights = assign_weights(active, selection.constraints.exposure)
    active_ids = tuple(work.strategy_id for work in active)
    return EvaluationResult(
        active=active_ids,
        plan=plan_changes(active_ids, inputs.previous),
        strategies={work.strategy_id: work.to_result() for work in works},
        weights=weights,
        state=next_state(state, new_states, advance_state=advance_state),
    )
