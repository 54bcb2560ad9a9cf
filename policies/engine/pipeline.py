"""One evaluation of a world policy, as a pure function.

The steps are docs/policy-language.md#11-how-one-evaluation-runs.

`evaluate(policy, inputs, state, advance_state=...)` reads no clock, database or settings, and
mutates none of its arguments. The same arguments give the same result.

Design choices (where the spec leaves room):

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
- **Rank / top-k / constraints.** In the spec's order: rank the gate-passers (score desc, unscored
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
from typing import Final

from policies.dsl.model import Policy, Side
from policies.engine import result as codes
from policies.engine.alpha_performance import alpha_metrics_from_series
from policies.engine.compiler import CompiledPolicy, compile_policy
from policies.engine.constraints import correlation_drops, equal_weights, topk_cuts
from policies.engine.hysteresis import NO_HYSTERESIS, hysteresis_step
from policies.engine.inputs import EvaluationInput
from policies.engine.metrics import MetricView
from policies.engine.result import (
    EvaluationResult,
    GateResult,
    HysteresisResult,
    Plan,
    Status,
    StrategyResult,
)
from policies.engine.state import HysteresisState

_EMPTY: Final[Mapping[str, object]] = {}


class _Work:
    """The mutable record of one strategy while the steps run."""

    __slots__ = (
        "gates",
        "hysteresis",
        "rank",
        "reasons",
        "score",
        "selected",
        "side",
        "status",
        "strategy_id",
        "values",
        "was_active",
        "weight",
    )

    def __init__(self, strategy_id: str, side: Side, was_active: bool) -> None:
        self.strategy_id = strategy_id
        self.side: Side = side
        self.was_active = was_active
        self.values: list[float | None] = []
        self.status: Status = "fail"
        self.score: float | None = None
        self.rank: int | None = None
        self.selected = False
        self.weight: float | None = None
        self.gates: tuple[GateResult, ...] = ()
        self.hysteresis: HysteresisResult | None = None
        self.reasons: list[str] = []


def evaluate(
    policy: Policy,
    inputs: EvaluationInput,
    state: Mapping[str, HysteresisState],
    *,
    advance_state: bool,
) -> EvaluationResult:
    """Run the eight steps of an evaluation (see the module docstring for the choices made)."""
    compiled = compile_policy(policy)
    previous = inputs.previous
    works: list[_Work] = []

    # Steps 1–4 per strategy: metrics, history, sample, gates, score.
    for strategy_id, strategy in inputs.strategies.items():
        work = _Work(strategy_id, strategy.side, strategy_id in previous)
        overlay = (
            alpha_metrics_from_series(strategy.series) if strategy.series is not None else None
        )
        _assess(work, MetricView(strategy.metrics, overlay), compiled, policy)
        works.append(work)
    for strategy_id in sorted(previous - inputs.strategies.keys()):
        work = _Work(strategy_id, "long", True)
        work.reasons.append(codes.METRICS_ABSENT)
        _assess(work, MetricView(_EMPTY), compiled, policy)
        works.append(work)

    # Step 5: rank the gate-passers, then top-k.
    candidates = [w for w in works if w.status == "pass"]
    candidates.sort(key=_rank_key)
    for position, work in enumerate(candidates, start=1):
        work.rank = position
    cuts = topk_cuts([(w.strategy_id, w.side) for w in candidates], policy.selection.topk)
    survivors: list[_Work] = []
    for work in candidates:
        cut = cuts.get(work.strategy_id)
        if cut is None:
            work.reasons.append(codes.TOPK_SELECTED)
            survivors.append(work)
        else:
            work.reasons.extend(cut)

    # Step 6: correlation (exposure comes after hysteresis, over the active set).
    correlation = policy.selection.constraints.correlation
    dropped = (
        correlation_drops(
            [w.strategy_id for w in survivors], inputs.correlations, correlation.max_pairwise
        )
        if correlation is not None and survivors
        else set()
    )
    for work in survivors:
        if work.strategy_id in dropped:
            work.reasons.append(codes.CORRELATION_DROPPED)
        else:
            work.selected = True

    # Step 7: hysteresis.
    params = policy.selection.hysteresis or NO_HYSTERESIS
    bands = params.bands
    band_slot = compiled.band_slot
    new_states: dict[str, HysteresisState] = {}
    active: list[_Work] = []
    for work in works:
        passed = work.selected
        if passed and bands is not None and band_slot is not None:
            level = bands.exit if work.was_active else bands.enter
            value = work.values[band_slot]
            if value is None or value < level:
                passed = False
                work.reasons.append(
                    codes.BAND_BELOW_EXIT if work.was_active else codes.BAND_BELOW_ENTER
                )
        step = hysteresis_step(
            passed=passed,
            was_active=work.was_active,
            prior=state.get(work.strategy_id),
            as_of=inputs.as_of,
            params=params,
        )
        work.hysteresis = step.result
        work.reasons.extend(step.reasons)
        new_states[work.strategy_id] = step.state
        if step.active:
            active.append(work)

    # Step 8: the active set, its weights and the plan.
    active.sort(key=_active_key)
    weights = equal_weights(
        [(w.strategy_id, w.side) for w in active], policy.selection.constraints.exposure
    )
    for work in active:
        weight = weights[work.strategy_id]
        work.weight = weight.value
        if weight.capped:
            work.reasons.append(codes.WEIGHT_CAPPED)
    active_ids = tuple(w.strategy_id for w in active)
    active_set = set(active_ids)
    plan = Plan(
        activate=tuple(sid for sid in active_ids if sid not in previous),
        deactivate=tuple(sorted(sid for sid in previous if sid not in active_set)),
    )

    if advance_state:
        next_state: Mapping[str, HysteresisState] = {**state, **new_states}
    else:
        next_state = state
    return EvaluationResult(
        active=active_ids,
        plan=plan,
        strategies={w.strategy_id: _freeze(w) for w in works},
        weights={sid: weights[sid].value for sid in active_ids},
        state=next_state,
    )


def _assess(work: _Work, view: MetricView, compiled: CompiledPolicy, policy: Policy) -> None:
    """Steps 1–4 for one strategy: sufficiency, gates and score."""
    values = [view.get(name) for name in compiled.names]
    work.values = values
    reasons = work.reasons

    # Steps 1–2: history and sample sufficiency.
    insufficient = False
    if _below(values, compiled.history_slot, compiled.min_history_days):
        reasons.append(codes.INSUFFICIENT_HISTORY)
        insufficient = True
    sample = policy.sample
    trades_slot: int | None = None
    if compiled.sample_trades_slots is not None:
        trades_slot, alias_slot = compiled.sample_trades_slots
        if values[trades_slot] is None:
            trades_slot = alias_slot
    if (
        _below(values, compiled.sample_days_slot, sample.min_days)
        or _below(values, trades_slot, sample.min_trades)
        or _below(values, compiled.sample_bars_slot, sample.min_bars)
    ):
        reasons.append(codes.INSUFFICIENT_SAMPLE)
        insufficient = True
    if insufficient:
        work.status = "insufficient"
        return

    # Step 3: gates. Every comparison is evaluated (and reported); the tree combines them.
    on_missing = policy.validation.on_missing_metric
    outcomes: list[bool] = []
    gates: list[GateResult] = []
    missing_reported = False
    for comparison in compiled.comparisons:
        value = values[comparison.slot]
        if value is None:
            passed = on_missing != "fail"
            missing = on_missing != "ignore"
            missing_reported = missing_reported or missing
        else:
            passed = comparison.op(value, comparison.threshold)
            missing = False
        outcomes.append(passed)
        gates.append(GateResult(rule=comparison.rule, value=value, passed=passed, missing=missing))
    work.gates = tuple(gates)
    gates_ok = compiled.gate_tree(outcomes) if compiled.gate_tree is not None else True
    work.status = "pass" if gates_ok else "fail"
    reasons.append(codes.GATES_PASS if gates_ok else codes.GATES_FAIL)
    if missing_reported:
        reasons.append(codes.METRIC_MISSING)

    # Step 4: score.
    work.score = compiled.score(values)
    if work.score is None and gates_ok:
        reasons.append(codes.SCORE_MISSING)


def _below(values: list[float | None], slot: int | None, minimum: float | None) -> bool:
    if slot is None or minimum is None:
        return False
    value = values[slot]
    return value is None or value < minimum


def _rank_key(work: _Work) -> tuple[bool, float, str]:
    score = work.score
    return (score is None, -score if score is not None else 0.0, work.strategy_id)


def _active_key(work: _Work) -> tuple[bool, int, str]:
    rank = work.rank
    return (rank is None, rank if rank is not None else 0, work.strategy_id)


def _freeze(work: _Work) -> StrategyResult:
    if work.hysteresis is None:  # every evaluated strategy goes through step 7
        raise RuntimeError(f"strategy {work.strategy_id} has no hysteresis step")
    return StrategyResult(
        strategy_id=work.strategy_id,
        side=work.side,
        status=work.status,
        score=work.score,
        rank=work.rank,
        selected=work.selected,
        weight=work.weight,
        gates=work.gates,
        hysteresis=work.hysteresis,
        reasons=tuple(work.reasons),
    )
