"""Multi-world rebalancing plans and world allocations (docs/rebalancing.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from rebalancing.allocation.bus import OutboxBus
from rebalancing.allocation.plan import AllocationContext, AllocationExecutionPlan, AllocationOrder
from rebalancing.allocation.ports import AllocationStorage, EventBus, PlanExecutor, StorageConflict
from rebalancing.allocation.seam import AllocationSeam
from rebalancing.allocation.storage import DjangoAuditTrail, record_run, replayed_run
from rebalancing.announce import announce_plan
from rebalancing.models import RebalanceKind
from rebalancing.planner import (
    InputBounds,
    RebalancePlan,
    RebalanceRequest,
    RebalanceValidationError,
    parse_rebalance_request,
    plan_rebalance,
    plan_to_dict,
    worlds_named,
)
from rebalancing.planner.parse import WORLD_ID_RE
from worlds.roles import Role, require_role
from worldservice.api.errors import ServiceError
from worldservice.canonical import content_hash
from worldservice.limits import (
    MAX_FREEFORM_JSON_BYTES,
    MAX_POSITIONS,
    MAX_SERIES_POINTS,
    MAX_STRATEGIES,
    MAX_SYMBOLS,
    MAX_WORLDS_PER_REQUEST,
)

ALLOCATION_ONLY_KEYS = ("run_id", "world_allocations", "execute")
BOUNDS = InputBounds(
    positions=MAX_POSITIONS,
    worlds=MAX_WORLDS_PER_REQUEST,
    strategies=MAX_STRATEGIES,
    symbols=MAX_SYMBOLS,
    series_points=MAX_SERIES_POINTS,
    meta_bytes=MAX_FREEFORM_JSON_BYTES,
)


class RebalanceRefused(ServiceError):
    """A planner refusal, with the planner's own status (400, or 501 for hybrid mode)."""

    def __init__(self, error: RebalanceValidationError) -> None:
        super().__init__(error.detail, code=error.code, errors=error.errors)
        self.status_code = error.status


def parse(data: Mapping[str, Any]) -> RebalanceRequest:
    try:
        return parse_rebalance_request(
            data,
            compat_v2=bool(settings.WORLDSERVICE["COMPAT_REBALANCE_V2"]),
            alpha_metrics_required=bool(settings.WORLDSERVICE["ALPHA_METRICS_REQUIRED"]),
            bounds=BOUNDS,
        )
    except RebalanceValidationError as exc:
        raise RebalanceRefused(exc) from exc


def plan(request: RebalanceRequest) -> RebalancePlan:
    try:
        return plan_rebalance(request)
    except RebalanceValidationError as exc:
        raise RebalanceRefused(exc) from exc


def require_role_on_all(user: User, world_ids: set[str], needed: Role) -> None:
    """The caller needs `needed` on every world the request names; an unseen world is 404."""
    for world_id in sorted(world_ids):
        require_role(user, world_id, needed)


def apply_rebalancing(*, actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """Plan and record: audit rows and events per world; idempotent with a run_id."""
    request = parse(data)
    require_role_on_all(actor, worlds_named(request), Role.OPERATOR)
    fingerprint = content_hash(dict(data))
    replay = replayed_run(RebalanceKind.REBALANCING_APPLY, request.run_id, fingerprint)
    if replay is not None:
        return replay
    body = plan_to_dict(plan(request))
    try:
        with transaction.atomic():
            announce_plan(
                actor=actor.get_username(),
                request=request,
                body=body,
                bus=OutboxBus(),
                audit=DjangoAuditTrail(),
            )
            record_run(RebalanceKind.REBALANCING_APPLY, request.run_id, fingerprint, body, actor)
    except IntegrityError:  # the same run_id raced us in
        return replayed_run(RebalanceKind.REBALANCING_APPLY, request.run_id, fingerprint) or body
    return body


def upsert_allocations(
    *,
    actor: User,
    data: Mapping[str, Any],
    storage: AllocationStorage | None = None,
    bus: EventBus | None = None,
    executor: PlanExecutor | None = None,
) -> dict[str, Any]:
    """Set world allocations and plan the move to them from the last recorded ones.

    Orchestration only: four stages in one transaction (docs/rebalancing.md, "Allocations").
    Storage, bus and executor are the real ones unless given.
    """
    seam = AllocationSeam.resolve(storage, bus, executor)
    try:
        with seam.storage.atomic():
            order = _lock_allocations(seam.storage, data)
            context = _allocation_context(seam.storage, actor, order)
            if not isinstance(context, AllocationContext):
                return context  # the run_id's first answer, replayed
            execution_plan = _plan_and_persist(seam.storage, context)
            _execute(seam, execution_plan)
    except StorageConflict as conflict:  # the same run_id raced us in
        raced = conflict.plan
        return seam.storage.replayed(raced.run_id, raced.context.fingerprint) or dict(raced.body)
    return execution_plan.response()


def _lock_allocations(storage: AllocationStorage, data: Mapping[str, Any]) -> AllocationOrder:
    """Stage 1: check the body's shape, then lock the worlds it names for this transaction."""
    order = _allocation_order(data)
    if len(order.allocations) > MAX_WORLDS_PER_REQUEST:
        raise ServiceError(
            "The allocation request names too many worlds.",
            errors={"world_allocations": [f"At most {MAX_WORLDS_PER_REQUEST} worlds."]},
        )
    storage.lock_worlds(_well_formed_ids(order.allocations))
    return order


def _allocation_order(data: Mapping[str, Any]) -> AllocationOrder:
    run_id = data.get("run_id")
    allocations = data.get("world_allocations")
    if isinstance(run_id, str) and isinstance(allocations, dict):
        return AllocationOrder(run_id=run_id, allocations=allocations, data=data)
    errors = {}
    if not isinstance(run_id, str):
        errors["run_id"] = ["A run_id is required."]
    if not isinstance(allocations, dict):
        errors["world_allocations"] = ["A mapping of world id to a share 0..1 is required."]
    raise ServiceError("The allocation request is not valid.", errors=errors)


def _well_formed_ids(allocations: Mapping[str, Any]) -> list[str]:
    # Only well-formed ids are looked up; the planner reports the others.
    return [world_id for world_id in allocations if WORLD_ID_RE.fullmatch(world_id)]


def _allocation_context(
    storage: AllocationStorage, actor: User, order: AllocationOrder
) -> AllocationContext | dict[str, Any]:
    """Stage 2: the planner request from the recorded shares, role checks, and any replay."""
    before = storage.recorded_allocations(_well_formed_ids(order.allocations))
    request = parse(_planner_body(order, before))
    require_role_on_all(actor, worlds_named(request), Role.OPERATOR)
    fingerprint = content_hash(dict(order.data))
    replay = storage.replayed(order.run_id, fingerprint)
    if replay is not None:
        return replay
    return AllocationContext(
        order=order,
        actor=actor.get_username(),
        before=before,
        request=request,
        fingerprint=fingerprint,
    )


def _planner_body(order: AllocationOrder, before: Mapping[str, float]) -> dict[str, Any]:
    """A `MultiWorldRebalanceRequest` moving from the recorded shares to the requested ones.

    A world with no recorded share starts from its requested one (nothing to move).
    """
    body = {k: v for k, v in order.data.items() if k not in ALLOCATION_ONLY_KEYS}
    body.update(
        run_id=order.run_id,
        world_alloc_after=order.allocations,
        world_alloc_before={w: before.get(w, a) for w, a in order.allocations.items()},
    )
    return body


def _plan_and_persist(
    storage: AllocationStorage, context: AllocationContext
) -> AllocationExecutionPlan:
    """Stage 3: plan, then store each world's allocation, its audit row and the run's answer."""
    body = plan_to_dict(plan(context.request))
    execution_plan = AllocationExecutionPlan(
        context=context,
        body=body,
        etag=_allocation_etag(context.order),
        execute=_execute_flag(context.order.data),
    )
    for world_id, share in sorted(context.order.allocations.items()):
        storage.save_allocation(execution_plan, world_id, share)
        storage.record_audit(
            event="allocation_upserted",
            actor=context.actor,
            world_id=world_id,
            request={
                "run_id": context.order.run_id,
                "allocation": share,
                "before": context.before.get(world_id),
            },
            result={"etag": execution_plan.etag, "execute": execution_plan.execute},
        )
    storage.record_run(execution_plan)
    return execution_plan


def _execute_flag(data: Mapping[str, Any]) -> bool:
    execute = data.get("execute", False)
    if not isinstance(execute, bool):
        raise ServiceError("execute must be true or false.", errors={"execute": ["Not a boolean."]})
    return execute


def _allocation_etag(order: AllocationOrder) -> str:
    return "alloc:" + content_hash({"run_id": order.run_id, "allocations": order.allocations})[7:31]


def _execute(seam: AllocationSeam, execution_plan: AllocationExecutionPlan) -> None:
    """Stage 4: hand the stored plan to the executor, when the request asked for it."""
    if execution_plan.execute:
        seam.executor.execute(execution_plan, audit=seam.storage, bus=seam.bus)
