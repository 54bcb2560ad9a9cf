"""Announcing a plan: a `rebalancing_planned` event and an audit row per world of the plan.

`POST /rebalancing/apply` always announces; `POST /allocations` announces through its executor
when asked to execute (docs/rebalancing.md, "Allocations"; the payload is in docs/events.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rebalancing.allocation.ports import AuditTrail, EventBus
from rebalancing.planner import RebalanceRequest


def planned_event(
    request: RebalanceRequest, body: Mapping[str, Any], world_plan: Mapping[str, Any]
) -> dict[str, Any]:
    """The `rebalancing_planned` payload for one world; every plan carries its schema_version."""
    v2 = request.schema_version >= 2
    data: dict[str, Any] = {
        "plan": world_plan,
        "schema_version": request.schema_version,
        "alpha_metrics": body.get("alpha_metrics", {}) if v2 else {},
    }
    if v2:
        data["rebalance_intent"] = body.get("rebalance_intent")
    return data


def announce_plan(
    *,
    actor: str,
    request: RebalanceRequest,
    body: Mapping[str, Any],
    bus: EventBus,
    audit: AuditTrail,
) -> None:
    for world_id, world_plan in body["per_world"].items():
        bus.record_event(
            world_id=world_id,
            type="rebalancing_planned",
            data=planned_event(request, body, world_plan),
        )
        audit.record_audit(
            event="rebalancing_planned",
            actor=actor,
            world_id=world_id,
            request={"run_id": request.run_id, "schema_version": request.schema_version},
            result={"plan": world_plan},
        )
