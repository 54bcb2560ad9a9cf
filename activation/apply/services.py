"""The 2-phase apply: freeze/drain → switch → unfreeze, idempotent and single-flight.

`request_apply` records the run (the database allows one unfinished run per world: that is the
single-flight lock, shared by every process) and sends its task from inside the same transaction,
so a broker that refuses the task leaves no run, no lock and no audit row behind (a clean 503).
`carry_out_apply` runs in a Celery task and moves
the run through its stages; each stage is one transaction that first re-checks the run's phase
under a row lock, so a run the reaper has taken over cannot be moved on by a late worker. Any
failure, and any run whose lease lapses (a dead worker), ends in `roll_back`, which restores the
pre-apply entries and decisions with new, higher versions.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from activation.apply.models import ApplyPhase, ApplyRun
from activation.apply.stages import (
    Entry,
    Key,
    Target,
    affected_keys,
    freeze_changes,
    rollback_changes,
    switch_changes,
    target_from_plan,
    unfreeze_changes,
)
from activation.services.changes import event_data
from activation.services.recovery import ensure_ready
from activation.services.snapshots import take_snapshot
from activation.store import get_store
from activation.store.base import WriteOutcome
from policies.decide_cache import forget_decision
from policies.models import EvaluationRun, EvaluationStatus, WorldDecisions
from policies.services.evaluations import (
    EvaluationRequest,
    carry_out_evaluation,
    request_evaluation,
)
from worlds.audit import record_audit
from worlds.events import record_events
from worlds.models import World, WorldState
from worlds.selectors import get_world
from worlds.services.lookup import locked_world
from worldservice.api.errors import Conflict, InvalidInput, NotFound
from worldservice.canonical import content_hash, json_safe
from worldservice.clock import rfc3339
from worldservice.context import current_correlation_id
from worldservice.idempotency import replay_or_conflict
from worldservice.limits import MAX_STRATEGIES
from worldservice.metrics import (
    demotion_fail_total,
    promotion_fail_total,
    world_apply_duration_ms,
    world_apply_failure_total,
    world_apply_run_total,
    world_apply_timeout_total,
)

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2


class ApplyAborted(Exception):
    """The run is no longer ours to move on (finished or taken over by the reaper)."""


@dataclass(frozen=True, slots=True)
class ApplyRequest:
    """A validated apply body: a plan, a recorded evaluation, or metrics to evaluate first."""

    run_id: str
    plan: Mapping[str, Sequence[str]] | None = None
    evaluation_run_id: str | None = None
    evaluation: EvaluationRequest | None = None
    weights: Mapping[str, float] | None = None
    gating_policy: Mapping[str, Any] | None = None

    def recorded(self) -> dict[str, Any]:
        recorded: dict[str, Any] = json_safe(
            {
                "run_id": self.run_id,
                "plan": self.plan,
                "evaluation_run_id": self.evaluation_run_id,
                "evaluation": self.evaluation.recorded() if self.evaluation else None,
                "weights": self.weights,
                "gating_policy": self.gating_policy,
            }
        )
        return recorded


def _lease(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=int(settings.WORLDSERVICE["APPLY_TIMEOUT_SECONDS"]))


def _key_name(key: Key) -> str:
    return f"{key[0]}|{key[1]}"


def _key_of(name: str) -> Key:
    strategy, _, side = name.rpartition("|")
    return strategy, side


def request_apply(
    *,
    actor: User,
    world_id: str,
    request: ApplyRequest,
    dispatch: Callable[[ApplyRun], None] | None = None,
) -> tuple[ApplyRun, bool]:
    """Record the run; returns (run, created). A replayed run_id returns the recorded run.

    `dispatch` sends the run to the workers inside the recording transaction: if it raises
    (the broker is down), nothing is recorded and the world is not locked.
    """
    world = get_world(world_id)
    recorded = request.recorded()
    fingerprint = content_hash(recorded)
    existing = ApplyRun.objects.filter(world=world, run_id=request.run_id).first()
    if existing is not None:
        return replay_or_conflict(existing, fingerprint, "apply"), False
    if world.state != WorldState.ACTIVE:
        raise Conflict(
            f"World {world_id!r} is {world.state}; only ACTIVE worlds apply.",
            code="world_not_active",
        )
    if request.plan is not None:
        _check_target_size(world_id, request.plan)
    if request.evaluation_run_id is not None:
        evaluation = EvaluationRun.objects.filter(
            world=world, run_id=request.evaluation_run_id
        ).first()
        if evaluation is None:
            raise NotFound(f"No evaluation run {request.evaluation_run_id!r}.")
        if evaluation.status != EvaluationStatus.COMPLETED:
            raise Conflict("That evaluation has not completed.", code="evaluation_not_completed")
    now = timezone.now()
    try:
        with transaction.atomic():
            locked_world(world_id)  # serialises against overrides checking apply_in_flight
            run = ApplyRun.objects.create(
                world=world,
                run_id=request.run_id,
                fingerprint=fingerprint,
                request=recorded,
                actor=actor.get_username(),
                correlation_id=current_correlation_id(),
                stages=[{"stage": ApplyPhase.REQUESTED, "at": rfc3339(now)}],
                lease_expires_at=_lease(now),
            )
            record_audit(
                event="apply_stage",
                actor=run.actor,
                world_id=world.id,
                request={"run_id": run.run_id, **recorded},
                result={"stage": ApplyPhase.REQUESTED},
            )
            if dispatch is not None:
                dispatch(run)
    except IntegrityError:
        existing = ApplyRun.objects.filter(world=world, run_id=request.run_id).first()
        if existing is not None:
            return replay_or_conflict(existing, fingerprint, "apply"), False
        raise Conflict(
            f"Another apply is in flight for world {world_id!r}; retry shortly.",
            code="apply_in_progress",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
    return run, True


def _check_target_size(world_id: str, plan: Mapping[str, Sequence[str]]) -> None:
    """The set a plan moves to must fit under the bound on strategies per world."""
    target = target_from_plan(
        _decisions(world_id), plan.get("activate", ()), plan.get("deactivate", ())
    )
    if len(target) > MAX_STRATEGIES:
        raise InvalidInput(
            f"The plan would leave {len(target)} strategies active; at most {MAX_STRATEGIES}.",
            errors={"plan.activate": [f"At most {MAX_STRATEGIES} active strategies."]},
        )


def await_recording(world_id: str) -> None:
    """Return once no transaction is recording a run for the world.

    A run's task is sent before its transaction commits, so it can arrive first; the recording
    transaction holds the world's row lock, which this waits for.
    """
    with transaction.atomic():
        World.objects.select_for_update().filter(pk=world_id).first()


# --- carrying a run out ---------------------------------------------------------------------


def _actor(run: ApplyRun) -> User:
    return User.objects.get(username=run.actor)


def _target(run: ApplyRun) -> Target:
    """Resolve the run's target set, evaluating first when the request carried metrics."""
    recorded = run.request
    current = _decisions(run.world_id)
    weights: dict[str, float] = {}
    sides: dict[str, str] = {}
    result: Mapping[str, Any] | None = None
    if recorded.get("evaluation_run_id"):
        result = EvaluationRun.objects.get(
            world_id=run.world_id, run_id=recorded["evaluation_run_id"]
        ).result
    elif recorded.get("evaluation") is not None:
        result = _evaluate_first(run)
    if result is not None:
        plan = result["plan"]
        weights = {k: float(v) for k, v in (result.get("weights") or {}).items() if v is not None}
        sides = {k: v.get("side", "long") for k, v in result.get("strategies", {}).items()}
    else:
        plan = recorded["plan"]
    weights.update({k: float(v) for k, v in (recorded.get("weights") or {}).items()})
    active = target_from_plan(current, plan.get("activate", []), plan.get("deactivate", []))
    return Target(active=active, weights=weights, sides=sides)


def _evaluate_first(run: ApplyRun) -> Mapping[str, Any]:
    fields = dict(run.request["evaluation"])
    evaluation = request_evaluation(
        actor=_actor(run),
        world_id=run.world_id,
        request=EvaluationRequest(
            metrics=fields.get("metrics") or {},
            series=fields.get("series") or {},
            correlations=fields.get("correlations") or (),
            previous=fields.get("previous"),
            policy_version=fields.get("policy_version"),
            policy=fields.get("policy"),
            as_of=None,
            stage=fields.get("stage"),
            run_id=f"{run.run_id}.evaluation",
            simulate=bool(fields.get("simulate")),
        ),
    )
    finished = carry_out_evaluation(evaluation.pk)
    if finished.result is None:
        raise RuntimeError(f"the evaluation failed: {finished.error}")
    return finished.result


def _decisions(world_id: str) -> list[str]:
    current = WorldDecisions.objects.filter(world_id=world_id).first()
    return list(current.strategies) if current else []


def _set_decisions(world_id: str, strategies: Sequence[str]) -> None:
    WorldDecisions.objects.update_or_create(
        world_id=world_id, defaults={"strategies": list(strategies)}
    )
    forget_decision(world_id)


def _publish(run: ApplyRun, phase: str, outcome: WriteOutcome) -> None:
    """One `activation_updated` event per written entry, numbered within the run."""
    items = []
    for key in sorted(outcome.after):
        run.event_sequence += 1
        data = event_data(
            run.world_id,
            key,
            outcome.after[key],
            version=outcome.version,
            state_hash=outcome.state_hash,
        )
        data.update(
            cause="apply",
            phase=phase,
            requires_ack=phase == ApplyPhase.FREEZE,
            sequence=run.event_sequence,
        )
        items.append(data)
    record_events(world_id=run.world_id, type="activation_updated", items=items)


def _stage_audit(run: ApplyRun, stage: str, outcome: WriteOutcome | None, **extra: Any) -> None:
    """The stage's audit row, with the entries written so history can replay them."""
    result: dict[str, Any] = {"stage": stage, **extra}
    if outcome is not None:
        result.update(
            version=outcome.version,
            state_hash=outcome.state_hash,
            entries={_key_name(k): v for k, v in outcome.after.items()},
        )
    record_audit(
        event="apply_stage",
        actor=run.actor,
        world_id=run.world_id,
        request={"run_id": run.run_id},
        result=result,
    )


def _record_stage(run: ApplyRun, stage: str, **fields: Any) -> None:
    now = timezone.now()
    run.phase = stage
    run.stages = [*run.stages, {"stage": stage, "at": rfc3339(now)}]
    run.lease_expires_at = _lease(now)
    for name, value in fields.items():
        setattr(run, name, value)
    if stage in (ApplyPhase.COMPLETED, ApplyPhase.ROLLED_BACK):
        run.finished_at = now
    run.save()


StageWork = Callable[[ApplyRun, Mapping[Key, Entry]], Mapping[Key, Entry | None]]


def _stage(run_pk: int, expected: str, stage: str, work: StageWork) -> ApplyRun:
    """Move the run from `expected` to `stage`, writing what `work` returns, in one transaction."""
    store = get_store()
    with transaction.atomic():
        run = ApplyRun.objects.select_for_update().get(pk=run_pk)
        if run.phase != expected:
            raise ApplyAborted(f"run is {run.phase}, expected {expected}")
        _, entries = store.read_all(run.world_id)
        changes = work(run, entries)
        outcome = store.apply_changes(run.world_id, changes) if changes else None
        # The switch happens while every entry is frozen; consumers learn its result from the
        # unfreeze events, so it sends none of its own.
        if outcome is not None and stage != ApplyPhase.SWITCH:
            _publish(run, stage, outcome)
        _record_stage(run, stage)
        _stage_audit(run, stage, outcome)
    delay = float(settings.WORLDSERVICE["APPLY_STAGE_DELAY_SECONDS"])
    if delay:
        time.sleep(delay)
    return run


def carry_out_apply(run_pk: int) -> ApplyRun:
    """Run every stage; on any failure roll back. Safe to call again for a finished run."""
    run = ApplyRun.objects.get(pk=run_pk)
    if run.finished:
        return run
    started = time.perf_counter()
    stage = ApplyPhase.FREEZE
    try:
        if not ensure_ready(run.world_id, wait_seconds=5):
            raise RuntimeError("the activation set is being rebuilt")
        target = _target(run)
        keys: list[Key] = []
        _prepare(run_pk, target)

        def freeze(run: ApplyRun, entries: Mapping[Key, Entry]) -> Mapping[Key, Entry | None]:
            saved: dict[str, Any] = run.previous or {"entries": {}, "decisions": []}
            before = {_key_of(k): v for k, v in saved["entries"].items()}
            keys.extend(affected_keys(before, saved["decisions"], target))
            return freeze_changes(entries, keys, run.run_id)

        def switch(run: ApplyRun, entries: Mapping[Key, Entry]) -> Mapping[Key, Entry | None]:
            _set_decisions(run.world_id, target.active)
            return switch_changes(entries, keys, target, run.run_id)

        def unfreeze(run: ApplyRun, entries: Mapping[Key, Entry]) -> Mapping[Key, Entry | None]:
            return unfreeze_changes(entries, keys, run.run_id)

        run = _stage(run_pk, ApplyPhase.REQUESTED, ApplyPhase.FREEZE, freeze)
        stage = ApplyPhase.SWITCH
        run = _stage(run_pk, ApplyPhase.FREEZE, ApplyPhase.SWITCH, switch)
        stage = ApplyPhase.UNFREEZE
        run = _stage(run_pk, ApplyPhase.SWITCH, ApplyPhase.UNFREEZE, unfreeze)
        stage = ApplyPhase.COMPLETED
        run = _finish(run_pk)
    except ApplyAborted:
        return ApplyRun.objects.get(pk=run_pk)
    except Exception as exc:
        logger.exception("apply %s failed in %s", run_pk, stage)
        world_apply_failure_total.labels(stage=stage).inc()
        run = roll_back(run_pk, f"{stage} failed: {type(exc).__name__}: {exc}")
    world_apply_duration_ms.observe((time.perf_counter() - started) * 1000)
    return run


def _prepare(run_pk: int, target: Target) -> None:
    """Save the pre-apply entries, decisions and target on the run before anything is written,
    so a rollback can always restore them (even if the freeze's own transaction fails)."""
    store = get_store()
    with transaction.atomic():
        run = ApplyRun.objects.select_for_update().get(pk=run_pk)
        if run.phase != ApplyPhase.REQUESTED:
            raise ApplyAborted(f"run is {run.phase}")
        _, entries = store.read_all(run.world_id)
        run.previous = {
            "entries": {_key_name(k): v for k, v in entries.items()},
            "decisions": _decisions(run.world_id),
        }
        run.active, run.weights = list(target.active), dict(target.weights)
        run.save(update_fields=["previous", "active", "weights"])


def abort_for_deleted_world(*, actor: str, world_id: str) -> list[str]:
    """End the world's unfinished runs without restoring anything: the world is being deleted
    and every entry is about to be gated off. A worker still holding a run stops at its next
    stage, whose fence finds the run finished. Call inside the deleting transaction."""
    aborted = []
    for run in (
        ApplyRun.objects.select_for_update()
        .filter(world_id=world_id)
        .exclude(phase__in=(ApplyPhase.COMPLETED, ApplyPhase.ROLLED_BACK))
    ):
        failed_in = run.phase
        _record_stage(run, ApplyPhase.ROLLED_BACK, ok=False, error="the world was deleted")
        _stage_audit(
            run,
            ApplyPhase.ROLLED_BACK,
            None,
            failed_in=failed_in,
            error="the world was deleted",
            by=actor,
        )
        aborted.append(run.run_id)
    return aborted


def _finish(run_pk: int) -> ApplyRun:
    with transaction.atomic():
        run = ApplyRun.objects.select_for_update().get(pk=run_pk)
        if run.phase != ApplyPhase.UNFREEZE:
            raise ApplyAborted(f"run is {run.phase}")
        _record_stage(run, ApplyPhase.COMPLETED, ok=True)
        _stage_audit(run, ApplyPhase.COMPLETED, None, active=run.active)
        take_snapshot(run.world_id, reason=f"apply {run.run_id}")
    world_apply_run_total.labels(status="completed").inc()
    return run


def roll_back(run_pk: int, reason: str) -> ApplyRun:
    """Restore the pre-apply entries and decisions, and end the run `rolled_back`."""
    store = get_store()
    with transaction.atomic():
        run = ApplyRun.objects.select_for_update().get(pk=run_pk)
        if run.finished:
            return run
        failed_in = run.phase
        outcome = None
        failed_moves = _moves(run)
        if run.previous is not None:
            before = {_key_of(k): v for k, v in run.previous["entries"].items()}
            _, now_entries = store.read_all(run.world_id)
            changes = rollback_changes(before, now_entries)
            if changes:
                outcome = store.apply_changes(run.world_id, changes)
                _publish(run, "rollback", outcome)
            _set_decisions(run.world_id, run.previous["decisions"])
            run.active = list(run.previous["decisions"])
        _record_stage(run, ApplyPhase.ROLLED_BACK, ok=False, error=reason)
        _stage_audit(run, ApplyPhase.ROLLED_BACK, outcome, failed_in=failed_in, error=reason)
        take_snapshot(run.world_id, reason=f"rollback {run.run_id}")
    world_apply_run_total.labels(status="rolled_back").inc()
    _count_failed_moves(*failed_moves)
    return run


def _moves(run: ApplyRun) -> tuple[bool, bool]:
    """(promotes any strategy, demotes any strategy): the run's target against the decisions
    it started from. Both False when it failed before its target was known."""
    if run.previous is None:
        return False, False
    before, target = set(run.previous["decisions"]), set(run.active)
    return bool(target - before), bool(before - target)


def _count_failed_moves(promoting: bool, demoting: bool) -> None:
    """`promotion_fail_total` / `demotion_fail_total`: one per failed run that would have
    promoted / demoted a strategy (docs/operations.md#metrics)."""
    if promoting:
        promotion_fail_total.inc()
    if demoting:
        demotion_fail_total.inc()


def reap_stale_applies(now: dt.datetime | None = None) -> list[str]:
    """Roll back every unfinished run whose lease has lapsed (its worker is gone)."""
    now = now or timezone.now()
    stale = ApplyRun.objects.exclude(
        phase__in=(ApplyPhase.COMPLETED, ApplyPhase.ROLLED_BACK)
    ).filter(lease_expires_at__lt=now)
    reaped = []
    for run in stale:
        roll_back(
            run.pk, "the worker carrying the run stopped answering; rolled back by the reaper"
        )
        world_apply_failure_total.labels(stage=run.phase).inc()
        world_apply_timeout_total.inc()
        reaped.append(run.run_id)
    return reaped
