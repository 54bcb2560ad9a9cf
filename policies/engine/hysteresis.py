"""Step 7: hysteresis, which turns this run's selection into the active set.

A strategy *passes* this run when it was selected (steps 1–6) and, with `bands`, its band metric
is ≥ `exit` when it was active, ≥ `enter` otherwise (a missing metric: band not met).

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from policies.dsl.model import Bands, Hysteresis
from policies.engine.result import (
    BAND_BELOW_ENTER,
    BAND_BELOW_EXIT,
    HYSTERESIS_DEMOTE,
    HYSTERESIS_DWELL,
    HYSTERESIS_HOLD,
    HYSTERESIS_NOT_COUNTED,
    HYSTERESIS_PROMOTE,
    Action,
    HysteresisResult,
)
from policies.engine.state import HysteresisState
from policies.engine.work import StrategyWork

#: A policy without a `hysteresis` section promotes and demotes at once.
NO_HYSTERESIS = Hysteresis(promote_after=1, demote_after=1, min_dwell_seconds=0, bands=None)


def apply_hysteresis(
    works: Sequence[StrategyWork],
    *,
    params: Hysteresis | None,
    band_slot: int | None,
    state: Mapping[str, HysteresisState],
    as_of: datetime,
) -> tuple[list[StrategyWork], dict[str, HysteresisState]]:
    """Step 7 for every strategy: the active ones (in `works` order) and each one's new state."""
    params = params or NO_HYSTERESIS
    new_states: dict[str, HysteresisState] = {}
    active: list[StrategyWork] = []
    for work in works:
        step = hysteresis_step(
            passed=work.selected and _band_met(work, params.bands, band_slot),
            was_active=work.was_active,
            prior=state.get(work.strategy_id),
            as_of=as_of,
            params=params,
        )
        work.hysteresis = step.result
        work.reasons.extend(step.reasons)
        new_states[work.strategy_id] = step.state
        if step.active:
            active.append(work)
    return active, new_states


def _band_met(work: StrategyWork, bands: Bands | None, slot: int | None) -> bool:
    """Whether a selected strategy meets its band (`exit` when active, `enter` otherwise)."""
    if bands is None or slot is None:
        return True
    level = bands.exit if work.was_active else bands.enter
    value = work.values[slot]
    if value is not None and value >= level:
        return True
    work.reasons.append(BAND_BELOW_EXIT if work.was_active else BAND_BELOW_ENTER)
    return False


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
    last_counted = prior.last_counted_as_of if prior is not None else None
    counted = last_counted is None or as_of > last_counted
    consecutive_pass, consecutive_fail = _streaks(prior, passed=passed, counted=counted)
    wants_change = (
        consecutive_fail >= params.demote_after
        if was_active
        else consecutive_pass >= params.promote_after
    )
    last_change_at = prior.last_change_at if prior is not None else None
    dwell_seconds = _seconds_since(last_change_at, as_of)
    changed = wants_change and not _dwell_binds(prior, was_active, dwell_seconds, params)
    action: Action = _change(was_active) if changed else "HOLD"
    state = HysteresisState(
        consecutive_pass=consecutive_pass,
        consecutive_fail=consecutive_fail,
        active=was_active != changed,
        last_change_at=as_of if changed else last_change_at,
        last_counted_as_of=as_of if counted else last_counted,
    )
    result = HysteresisResult(
        action=action,
        consecutive_pass=consecutive_pass,
        consecutive_fail=consecutive_fail,
        dwell_seconds=0 if changed else dwell_seconds,
    )
    reasons = _reasons(
        action, passed=passed, was_active=was_active, wants_change=wants_change, counted=counted
    )
    return HysteresisStep(action=action, result=result, state=state, reasons=reasons)


def _streaks(prior: HysteresisState | None, *, passed: bool, counted: bool) -> tuple[int, int]:
    """`(consecutive_pass, consecutive_fail)` after this run; unchanged when it is not counted."""
    if prior is None:
        consecutive_pass = consecutive_fail = 0
    else:
        consecutive_pass, consecutive_fail = prior.consecutive_pass, prior.consecutive_fail
    if not counted:
        return consecutive_pass, consecutive_fail
    return (consecutive_pass + 1, 0) if passed else (0, consecutive_fail + 1)


def _seconds_since(last_change_at: datetime | None, as_of: datetime) -> int | None:
    return int((as_of - last_change_at).total_seconds()) if last_change_at is not None else None


def _dwell_binds(
    prior: HysteresisState | None,
    was_active: bool,
    dwell_seconds: int | None,
    params: Hysteresis,
) -> bool:
    """Whether `min_dwell` holds a change back (see the module docstring for when it does not)."""
    return (
        params.min_dwell_seconds > 0
        and prior is not None
        and prior.active == was_active
        and dwell_seconds is not None
        and dwell_seconds < params.min_dwell_seconds
    )


def _change(was_active: bool) -> Action:
    return "DEMOTE" if was_active else "PROMOTE"


def _reasons(
    action: Action, *, passed: bool, was_active: bool, wants_change: bool, counted: bool
) -> tuple[str, ...]:
    reasons: list[str] = []
    if action != "HOLD":
        reasons.append(HYSTERESIS_DEMOTE if was_active else HYSTERESIS_PROMOTE)
    elif passed != was_active:  # this run says otherwise, hysteresis keeps the state
        reasons.append(HYSTERESIS_HOLD)
        if wants_change:
            reasons.append(HYSTERESIS_DWELL)
    if not counted:
        reasons.append(HYSTERESIS_NOT_COUNTED)
    return tuple(reasons)
