"""What one evaluation answers, and its JSON form (docs/contract.md#evaluate)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from policies.dsl.model import Side
from policies.engine.state import HysteresisState

Status = Literal["pass", "fail", "insufficient"]
Action = Literal["PROMOTE", "DEMOTE", "HOLD"]

# --- reason codes, in the order they can appear for one strategy -------------------------------
METRICS_ABSENT: Final = "metrics_absent"  # previously active, but no entry in this evaluation
INSUFFICIENT_HISTORY: Final = "insufficient_history"
INSUFFICIENT_SAMPLE: Final = "insufficient_sample"
GATES_PASS: Final = "gates_pass"  # noqa: S105  # a reason code, not a secret
GATES_FAIL: Final = "gates_fail"
METRIC_MISSING: Final = "metric_missing"  # a gate read a missing metric (fail or warn)
SCORE_MISSING: Final = "score_missing"  # ranks last
TOPK_SELECTED: Final = "topk_selected"
TOPK_CUT: Final = "topk_cut"  # not among the top-k
TOPK_SIDE_CUT: Final = "topk_side_cut"  # ...because of topk.by_side[side] (follows topk_cut)
CORRELATION_DROPPED: Final = "correlation_dropped"
BAND_BELOW_ENTER: Final = "band_below_enter"
BAND_BELOW_EXIT: Final = "band_below_exit"
HYSTERESIS_PROMOTE: Final = "hysteresis_promote"
HYSTERESIS_DEMOTE: Final = "hysteresis_demote"
HYSTERESIS_HOLD: Final = "hysteresis_hold"  # this run's outcome differs, the state did not change
HYSTERESIS_DWELL: Final = "hysteresis_dwell"  # ...because min_dwell has not passed
HYSTERESIS_NOT_COUNTED: Final = "hysteresis_not_counted"  # same as_of as the last counted run
WEIGHT_CAPPED: Final = "weight_capped"  # exposure.max_weight lowered the weight


@dataclass(frozen=True, slots=True)
class GateResult:
    """One comparison of the gate tree: its text, the value read, and whether it passed.

    `missing` is True when the metric was missing and the policy reports it (`fail`, `warn`); with
    `ignore` a missing metric passes silently and `missing` stays False.
    """

    rule: str
    value: float | None
    passed: bool
    missing: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "value": self.value, "passed": self.passed}
        if self.missing:
            out["missing"] = True
        return out


@dataclass(frozen=True, slots=True)
class HysteresisResult:
    """The hysteresis step for one strategy; `dwell_seconds` is None when it never changed state."""

    action: Action
    consecutive_pass: int
    consecutive_fail: int
    dwell_seconds: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "consecutive_pass": self.consecutive_pass,
            "consecutive_fail": self.consecutive_fail,
            "dwell_seconds": self.dwell_seconds,
        }


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """One strategy's way through the steps.

    `status` is the outcome of steps 1–3 (insufficient, or the gates); `selected` says it also
    survived top-k and the correlation constraint (steps 5–6); `rank` is its place among the
    strategies that passed the gates (None otherwise); `weight` is None unless it is in the
    active set.
    """

    strategy_id: str
    side: Side
    status: Status
    score: float | None
    rank: int | None
    selected: bool
    weight: float | None
    gates: tuple[GateResult, ...]
    hysteresis: HysteresisResult
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "side": self.side,
            "score": self.score,
            "rank": self.rank,
            "selected": self.selected,
            "weight": self.weight,
            "gates": [gate.to_json() for gate in self.gates],
            "hysteresis": self.hysteresis.to_json(),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """The change from `previous` to the new active set."""

    activate: tuple[str, ...]
    deactivate: tuple[str, ...]

    def to_json(self) -> dict[str, list[str]]:
        return {"activate": list(self.activate), "deactivate": list(self.deactivate)}


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """The answer of one evaluation, plus the hysteresis state to persist (`state`)."""

    active: tuple[str, ...]
    plan: Plan
    strategies: Mapping[str, StrategyResult]
    weights: Mapping[str, float]
    state: Mapping[str, HysteresisState]

    def to_json(self) -> dict[str, Any]:
        """The response body fields `active`, `plan`, `strategies` and `weights`.

        See docs/contract.md#evaluate.
        """
        return {
            "active": list(self.active),
            "plan": self.plan.to_json(),
            "strategies": {sid: result.to_json() for sid, result in self.strategies.items()},
            "weights": dict(self.weights),
        }
