"""Reads of what an evaluation reads: a recorded request, the decided set, the hysteresis state.

The evaluation service (`policies/services/evaluations.py`) builds its engine input here, and so
does the admin's simulation (`policies/simulation.py`), so a what-if reads the recorded inputs
exactly as the real evaluation did. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from policies.engine import EvaluationInput, HysteresisState, build_input
from policies.models import EvaluationRun, EvaluationStatus, HysteresisRecord, WorldDecisions
from worlds.models import World


def decided_strategies(world: World) -> list[str]:
    """The world's decided (active) strategies, in order; empty when none were set."""
    decisions = WorldDecisions.objects.filter(world=world).first()
    return list(decisions.strategies) if decisions else []


def recorded_previous(world: World, recorded: Mapping[str, Any]) -> list[str]:
    """The `previous` a recorded request names, else the world's decided strategies now."""
    if recorded.get("previous") is not None:
        return list(recorded["previous"])
    return decided_strategies(world)


def previous_at_run(run: EvaluationRun) -> list[str]:
    """What was active just before a completed run: its recorded `previous`, else what its
    result implies (the active set, less what it activated, plus what it deactivated)."""
    if run.request.get("previous") is not None:
        return list(run.request["previous"])
    result = run.result or {}
    plan = result.get("plan") or {}
    activated = set(plan.get("activate") or ())
    kept = [sid for sid in result.get("active") or () if sid not in activated]
    return kept + sorted(set(plan.get("deactivate") or ()) - set(kept))


def hysteresis_state(world: World) -> dict[str, HysteresisState]:
    """The hysteresis state the world's evaluations carry, per strategy."""
    return {
        record.strategy_id: HysteresisState.from_dict(record.state)
        for record in HysteresisRecord.objects.filter(world=world)
    }


def recorded_input(
    recorded: Mapping[str, Any], *, as_of: dt.datetime, previous: Iterable[str]
) -> EvaluationInput:
    """The engine input of a recorded request (docs/contract.md#evaluate shapes)."""
    return build_input(
        recorded["metrics"],
        as_of=as_of,
        series=recorded.get("series") or {},
        correlations=recorded.get("correlations") or (),
        previous=previous,
    )


def recent_completed_runs(world: World, count: int) -> list[EvaluationRun]:
    """The world's last `count` completed evaluation runs, oldest first (their results and
    policies are loaded only when read)."""
    runs = (
        EvaluationRun.objects.filter(world=world, status=EvaluationStatus.COMPLETED)
        .defer("result", "policy_document")
        .order_by("-id")[:count]
    )
    return list(reversed(list(runs)))
