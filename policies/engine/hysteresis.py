"""Step 7: hysteresis for one strategy (docs/policy-language.md#11-how-one-evaluation-runs, step 7).

`passed` is this run's outcome: the strategy survived steps 1–6 and, with bands, met its band.

- Counting: a run whose `as_of` is later than the state's `last_counted_as_of` (or any run when
  nothing was counted yet) counts: a pass increments `consecutive_pass` and zeroes
  `consecutive_fail`, a failure the reverse. A run at the same or an earlier `as_of` does not
  count; the decision below then reads the stored counters.
- Deciding: an inactive strategy is promoted once `consecutive_pass ≥ promote_after`; an active one
  is demoted once `consecutive_fail ≥ demote_after`; anything else holds.
- Dwell: a change is held back while `as_of − last_change_at < min_dwell`. A strategy that never
  changed state has no `last_change_at` and nothing to wait for. When the stored `active` flag
  disagrees with `previous` the recorded change never took effect (the plan was not applied, or
  an operator changed the set by hand), so that change does not hold the strategy either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from policies.dsl.model import Hysteresis
from policies.engine.result import (
    HYSTERESIS_DEMOTE,
    HYSTERESIS_DWELL,
    HYSTERESIS_HOLD,
    HYSTERESIS_NOT_COUNTED,
    HYSTERESIS_PROMOTE,
    Action,
    HysteresisResult,
)
from policies.engine.state import HysteresisState

#: A policy without a `hysteresis` section promotes and demotes at once.
NO_HYSTERESIS = Hysteresis(promote_after=1, demote_after=1, min_dwell_seconds=0, bands=None)


@dataclass(frozen=True, slots=True)
class HysteresisStep:
    action: Action
    result: HysteresisResult
    state: HysteresisState
    reasons: tuple[str, ...]

    @property
    def active(self) -> bool:
        """Whether the strategy is in the active set after this step."""
        return self.state.active


def hysteresis_step(
    *,
    passed: bool,
    was_active: bool,
    prior: HysteresisState | None,
    as_of: datetime,
    params: Hysteresis,
) -> HysteresisStep:
    """Count this run (when it counts), decide PROMOTE / DEMOTE / HOLD, and build the new state."""
    counted = prior is None or prior.last_counted_as_of is None or as_of > prior.last_counted_as_of
    consecutive_pass = prior.consecutive_pass if prior is not None else 0
    consecutive_fail = prior.consecutive_fail if prior is not None else 0
    if counted:
        if passed:
            consecutive_pass, consecutive_fail = consecutive_pass + 1, 0
        else:
            consecutive_pass, consecutive_fail = 0, consecutive_fail + 1

    last_change_at = prior.last_change_at if prior is not None else None
    dwell_seconds = (
        int((as_of - last_change_at).total_seconds()) if last_change_at is not None else None
    )
    dwell_binds = (
        params.min_dwell_seconds > 0
        and prior is not None
        and prior.active == was_active
        and dwell_seconds is not None
        and dwell_seconds < params.min_dwell_seconds
    )

    reasons: list[str] = []
    wants_change = (
        consecutive_pass >= params.promote_after
        if not was_active
        else consecutive_fail >= params.demote_after
    )
    action: Action
    if wants_change and not dwell_binds:
        action = "DEMOTE" if was_active else "PROMOTE"
        reasons.append(HYSTERESIS_DEMOTE if was_active else HYSTERESIS_PROMOTE)
    else:
        action = "HOLD"
        if passed != was_active:  # this run says otherwise, hysteresis keeps the state
            reasons.append(HYSTERESIS_HOLD)
            if wants_change:
                reasons.append(HYSTERESIS_DWELL)
    if not counted:
        reasons.append(HYSTERESIS_NOT_COUNTED)

    changed = action != "HOLD"
    now_active = (not was_active) if changed else was_active
    state = HysteresisState(
        consecutive_pass=consecutive_pass,
        consecutive_fail=consecutive_fail,
        active=now_active,
        last_change_at=as_of if changed else last_change_at,
        last_counted_as_of=as_of if counted else (prior.last_counted_as_of if prior else None),
    )
    result = HysteresisResult(
        action=action,
        consecutive_pass=consecutive_pass,
        consecutive_fail=consecutive_fail,
        dwell_seconds=0 if changed else dwell_seconds,
    )
    return HysteresisStep(action=action, result=result, state=state, reasons=tuple(reasons))
