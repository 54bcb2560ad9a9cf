"""What a policy version would do: a what-if over the world's recorded evaluations.

Read-only by construction: it reads recorded runs (`policies/recorded_inputs.py`) and runs the
pure engine (`policies/engine/`) in memory. It records no run, writes no audit row or event, and
never advances the world's hysteresis state.

The last N completed runs are replayed oldest first, once under the version and once under the
current default. Each replay starts from what was active before the first of those runs and with
no hysteresis memory, then carries its own active set and hysteresis state from run to run, as if
that policy had been in charge (and its plans applied). The most recent run, the world's most
recent recorded evaluation inputs, is shown strategy by strategy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from policies.dsl import Policy, parse_policy
from policies.engine import EvaluationResult, GateResult, HysteresisState, evaluate
from policies.models import EvaluationRun, WorldPolicy
from policies.recorded_inputs import (
    previous_at_run,
    recent_completed_runs,
    recorded_input,
)
from policies.selectors import default_policy
from worlds.models import World

DEFAULT_RUNS = 5
MAX_RUNS = 20
#: The replay is bounded by work, not only by runs: at most this many strategy evaluations per
#: policy (the most recent run is always replayed, however large).
MAX_STRATEGY_EVALUATIONS = 1_000
#: Strategies listed one by one for the most recent run; those that differ come first.
SHOWN_STRATEGIES = 100


@dataclass(frozen=True, slots=True)
class Outcome:
    """One strategy under one policy, at one run."""

    status: str  # pass, fail or insufficient (the gates and the sample)
    selected: bool  # also survived top-k and the correlation constraint
    action: str  # PROMOTE, DEMOTE or HOLD (hysteresis)
    active: bool
    weight: float | None
    gates: tuple[GateResult, ...]

    @property
    def effect(self) -> str:
        """The outcome in words: promoted, demoted, stays active or stays out."""
        if self.action == "PROMOTE":
            return "promoted"
        if self.action == "DEMOTE":
            return "demoted"
        return "stays active" if self.active else "stays out"


@dataclass(frozen=True, slots=True)
class StrategyLine:
    """One strategy at the most recent run: under the default and under the version."""

    strategy_id: str
    side: str
    default: Outcome | None  # None: not evaluated under the default (or there is no default)
    candidate: Outcome | None

    @property
    def weight_change(self) -> float | None:
        before = self.default.weight if self.default else None
        after = self.candidate.weight if self.candidate else None
        if before is None and after is None:
            return None
        return (after or 0.0) - (before or 0.0)

    @property
    def pair(self) -> tuple[Outcome | None, Outcome | None]:
        """(under the default, under the version), for pages that show them side by side."""
        return (self.default, self.candidate)

    @property
    def weight_change_text(self) -> str:
        change = self.weight_change
        return "" if change is None or change == 0 else f"{change:+.4f}"

    @property
    def differs(self) -> bool:
        """Whether the version acts otherwise than the default: active, weight or action."""
        return _acts(self.default) != _acts(self.candidate)


def _acts(outcome: Outcome | None) -> tuple[bool, float | None, str]:
    return (outcome.active, outcome.weight, outcome.action) if outcome else (False, None, "HOLD")


@dataclass(frozen=True, slots=True)
class PolicyStep:
    """What one policy decided at one run."""

    active: tuple[str, ...]
    promoted: tuple[str, ...]
    demoted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RunStep:
    """One replayed run: the default's decision beside the version's."""

    run_id: str
    as_of: dt.datetime
    default: PolicyStep | None
    candidate: PolicyStep

    @property
    def only_candidate(self) -> tuple[str, ...]:
        """Active under the version but not under the default."""
        base = set(self.default.active) if self.default else set()
        return tuple(sid for sid in self.candidate.active if sid not in base)

    @property
    def only_default(self) -> tuple[str, ...]:
        """Active under the default but not under the version."""
        if self.default is None:
            return ()
        mine = set(self.candidate.active)
        return tuple(sid for sid in self.default.active if sid not in mine)


@dataclass(frozen=True, slots=True)
class Simulation:
    version: int
    default_version: int | None
    runs_asked: int
    steps: tuple[RunStep, ...] = ()
    latest: tuple[StrategyLine, ...] = ()
    skipped: tuple[str, ...] = ()  # runs whose recorded inputs the engine could not read
    runs_left_out: int = 0  # older runs not replayed, to stay within MAX_STRATEGY_EVALUATIONS

    @property
    def latest_step(self) -> RunStep | None:
        return self.steps[-1] if self.steps else None

    @property
    def shown_lines(self) -> tuple[StrategyLine, ...]:
        """At most SHOWN_STRATEGIES lines, in order: every one that differs first in line."""
        differing = [line for line in self.latest if line.differs][:SHOWN_STRATEGIES]
        room = SHOWN_STRATEGIES - len(differing)
        chosen = {id(line) for line in differing}
        chosen |= {id(line) for line in [ln for ln in self.latest if not ln.differs][:room]}
        return tuple(line for line in self.latest if id(line) in chosen)

    @property
    def max_evaluations(self) -> int:
        return MAX_STRATEGY_EVALUATIONS

    @property
    def hidden_lines(self) -> int:
        return max(0, len(self.latest) - SHOWN_STRATEGIES)


@dataclass(slots=True)
class _Replay:
    """One policy's trajectory through the replayed runs, in memory only."""

    policy: Policy
    previous: list[str] | None = None
    state: Mapping[str, HysteresisState] = field(default_factory=dict)
    last: EvaluationResult | None = None

    def step(self, run: EvaluationRun, start: list[str]) -> PolicyStep:
        """Evaluate `run` after the runs before it (`start`: what was active before the first)."""
        previous = start if self.previous is None else self.previous
        inputs = recorded_input(run.request, as_of=run.as_of, previous=previous)
        result = evaluate(self.policy, inputs, self.state, advance_state=True)
        self.state, self.previous, self.last = result.state, list(result.active), result
        return PolicyStep(
            active=result.active, promoted=result.plan.activate, demoted=result.plan.deactivate
        )


def clamp_runs(runs: int) -> int:
    """The number of runs a simulation replays: at least 1, at most MAX_RUNS."""
    return max(1, min(MAX_RUNS, runs))


def simulate_version(*, world: World, policy: WorldPolicy, runs: int = DEFAULT_RUNS) -> Simulation:
    """Replay the world's last `runs` completed evaluations under `policy` and under the current
    default (see the module docstring). Writes nothing."""
    runs = clamp_runs(runs)
    current = default_policy(world)
    candidate = _Replay(parse_policy(policy.document))
    default = _Replay(parse_policy(current.document)) if current is not None else None
    records = recent_completed_runs(world, runs)
    kept = _within_budget(records)
    start = previous_at_run(kept[0]) if kept else []
    steps: list[RunStep] = []
    skipped: list[str] = []
    for run in kept:
        try:
            mine = candidate.step(run, start)
            theirs = default.step(run, start) if default is not None else None
        except (KeyError, TypeError, ValueError):  # a request the engine cannot read
            skipped.append(run.run_id)
            continue
        steps.append(RunStep(run.run_id, run.as_of, theirs, mine))
    latest = _lines(default.last if default else None, candidate.last) if steps else ()
    return Simulation(
        version=policy.version,
        default_version=current.version if current is not None else None,
        runs_asked=runs,
        steps=tuple(steps),
        latest=latest,
        skipped=tuple(skipped),
        runs_left_out=len(records) - len(kept),
    )


def _within_budget(records: list[EvaluationRun]) -> list[EvaluationRun]:
    """The most recent runs (oldest first) whose strategies add up to MAX_STRATEGY_EVALUATIONS;
    always the most recent one."""
    kept: list[EvaluationRun] = []
    total = 0
    for run in reversed(records):
        size = len(set(run.request.get("metrics") or ()) | set(run.request.get("series") or ()))
        if kept and total + size > MAX_STRATEGY_EVALUATIONS:
            break
        kept.append(run)
        total += size
    return list(reversed(kept))


def _lines(
    default: EvaluationResult | None, candidate: EvaluationResult | None
) -> tuple[StrategyLine, ...]:
    ids = list(candidate.strategies) if candidate else []
    if default is not None:
        seen = set(ids)
        ids += [sid for sid in default.strategies if sid not in seen]
    lines = []
    for sid in ids:
        mine, theirs = _outcome(candidate, sid), _outcome(default, sid)
        side_from = candidate if candidate and sid in candidate.strategies else default
        side = side_from.strategies[sid].side if side_from else "long"
        lines.append(StrategyLine(sid, side, theirs, mine))
    return tuple(lines)


def _outcome(result: EvaluationResult | None, sid: str) -> Outcome | None:
    if result is None or sid not in result.strategies:
        return None
    strategy = result.strategies[sid]
    return Outcome(
        status=strategy.status,
        selected=strategy.selected,
        action=strategy.hysteresis.action,
        active=sid in result.weights,
        weight=result.weights.get(sid),
        gates=strategy.gates,
    )
