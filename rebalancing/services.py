"""Multi-world rebalancing plans and world allocations.

The routes: docs/contract.md#rebalancing-and-allocations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from rebalancing.models import RebalanceKind, RebalanceRun, WorldAllocation
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
from worlds.audit import record_audit
from worlds.events import record_event
from worlds.roles import Role, require_role
from worldservice.api.errors import ServiceError
from worldservice.canonical import content_hash
from worldservice.idempotency import replay_or_conflict
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


def _replayed(kind: str, run_id: str | None, fingerprint: str) -> dict[str, Any] | None:
    if run_id is None:
        return None
    run = RebalanceRun.objects.filter(kind=kind, run_id=run_id).first()
    if run is None:
        return None
    response: dict[str, Any] = replay_or_conflict(run, fingerprint, "request").response
    return response


def _record_run(
    kind: str, run_id: str | None, fingerprint: str, response: dict[str, Any], actor: User
) -> None:
    if run_id is not None:
        RebalanceRun.objects.create(
            kind=kind,
            run_id=run_id,
            fingerprint=fingerprint,
            response=response,
            actor=actor.get_username(),
        )


def _announce(actor: User, request: RebalanceRequest, body: Mapping[str, Any]) -> None:
    """An audit row and a `rebalancing_planned` event per world of the plan."""
    v2 = request.schema_version >= 2
    for world_id, world_plan in body["per_world"].items():
        data: dict[str, Any] = {
            "plan": world_plan,
            "schema_version": request.schema_version,
            "alpha_metrics": body.get("alpha_metrics", {}) if v2 else {},
        }
        if v2:
            data["rebalance_intent"] = body.get("rebalance_intent")
        record_event(world_id=world_id, type="rebalancing_planned", data=data)
        record_audit(
            event="rebalancing_planned",
            actor=actor.get_username(),
            world_id=world_id,
            request={"run_id": request.run_id, "schema_version": request.schema_version},
            result={"plan": world_plan},
        )


def apply_rebalancing(*, actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """Plan and record: audit rows and events per world; idempotent with a run_id."""
    request = parse(data)
    require_role_on_all(actor, worlds_named(request), Role.OPERATOR)
    fingerprint = content_hash(dict(data))
    replay = _replayed(RebalanceKind.REBALANCING_APPLY, request.run_id, fingerprint)
    if replay is not None:
        return replay
    body = plan_to_dict(plan(request))
    try:
        with transaction.atomic():
            _announce(actor, request, body)
            _record_run(RebalanceKind.REBALANCING_APPLY, request.run_id, fingerprint, body, actor)
    except IntegrityError:  # the same run_id raced us in
        return _replayed(RebalanceKind.REBALANCING_APPLY, request.run_id, fingerprint) or body
    return body


def _recorded_allocations(allocations: Mapping[str, Any]) -> dict[str, Any]:
    """The last recorded share of each world named (at most MAX_WORLDS_PER_REQUEST of them)."""
    if len(allocations) > MAX_WORLDS_PER_REQUEST:
        raise ServiceError(
            "The allocation request names too many worlds.",
            errors={"world_allocations": [f"At most {MAX_WORLDS_PER_REQUEST} worlds."]},
        )
    # Only well-formed ids are looked up; the planner reports the others.
    named = [world_id for world_id in allocations if WORLD_ID_RE.fullmatch(world_id)]
    return {a.world_id: a.allocation for a in WorldAllocation.objects.filter(world_id__in=named)}


def upsert_allocations(*, actor: User, data: Mapping[str, Any]) -> dict[str, Any]:
    """Set world allocations and plan the move to them from the last recorded ones."""
    run_id = data.get("run_id")
    allocations = data.get("world_allocations")
    if not isinstance(run_id, str) or not isinstance(allocations, dict):
        errors = {}
        if not isinstance(run_id, str):
            errors["run_id"] = ["A run_id is required."]
        if not isinstance(allocations, dict):
            errors["world_allocations"] = ["A mapping of world id to a share 0..1 is required."]
        raise ServiceError("The allocation request is not valid.", errors=errors)
    before = _recorded_allocations(allocations)
    planner_body = {k: v for k, v in data.items() if k not in ALLOCATION_ONLY_KEYS}
    planner_body.update(
        run_id=run_id,
        world_alloc_after=allocations,
        world_alloc_before={w: before.get(w, a) for w, a in allocations.items()},
    )
    request = parse(planner_body)
    require_role_on_all(actor, worlds_named(request), Role.OPERATOR)
    fingerprint = content_hash(dict(data))
    replay = _replayed(RebalanceKind.ALLOCATION, run_id, fingerprint)
    if replay is not None:
        return replay
    body = plan_to_dict(plan(request))
    execute = data.get("execute", False)
    if not isinstance(execute, bool):
        raise ServiceError("execute must be true or false.", errors={"execute": ["Not a boolean."]})
    etag = "alloc:" + content_hash({"run_id": run_id, "allocations": allocations})[7:31]
    strategy_totals = request.strategy_alloc_after_total or {}
    try:
        with transaction.atomic():
            for world_id, share in sorted(allocations.items()):
                WorldAllocation.objects.update_or_create(
                    world_id=world_id,
                    defaults={
                        "allocation": share,
                        "run_id": run_id,
                        "etag": etag,
                        "strategy_alloc_total": strategy_totals.get(world_id),
                    },
                )
                record_audit(
                    event="allocation_upserted",
                    actor=actor.get_username(),
                    world_id=world_id,
                    request={"run_id": run_id, "allocation": share, "before": before.get(world_id)},
                    result={"etag": etag, "execute": execute},
                )
            if execute:  # handing the plan to the Gateway, which owns order I/O
                _announce(actor, request, body)
            response = {**body, "run_id": run_id, "etag": etag, "executed": execute}
            _record_run(RebalanceKind.ALLOCATION, run_id, fingerprint, response, actor)
    except IntegrityError:
        return _replayed(RebalanceKind.ALLOCATION, run_id, fingerprint) or body
    return response
