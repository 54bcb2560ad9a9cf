"""Plan executors, and the one the deployment chose.

WorldService places no orders itself: the Gateway owns order I/O. Executing an allocation plan
therefore means handing it over, as `rebalancing_planned` events the Gateway follows, which is
what `GatewayHandoff` does. A deployment names another executor with
`WORLDSERVICE_ALLOCATION_EXECUTOR` (docs/operations.md, "Environment variables").
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from rebalancing.allocation.plan import AllocationExecutionPlan
from rebalancing.allocation.ports import AuditTrail, EventBus, PlanExecutor
from rebalancing.announce import announce_plan


class GatewayHandoff:
    """Announce the plan to the Gateway: an event and an audit row per world."""

    def execute(self, plan: AllocationExecutionPlan, *, audit: AuditTrail, bus: EventBus) -> None:
        announce_plan(actor=plan.actor, request=plan.request, body=plan.body, bus=bus, audit=audit)


def configured_executor() -> PlanExecutor:
    """An instance of the class named by `settings.WORLDSERVICE["ALLOCATION_EXECUTOR"]`."""
    path = settings.WORLDSERVICE["ALLOCATION_EXECUTOR"]
    try:
        executor = import_string(path)()
    except ImportError as exc:
        raise ImproperlyConfigured(f"ALLOCATION_EXECUTOR {path!r} cannot be imported") from exc
    if not isinstance(executor, PlanExecutor):
        raise ImproperlyConfigured(f"ALLOCATION_EXECUTOR {path!r} has no execute() method")
    return executor
