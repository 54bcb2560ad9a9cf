"""The interfaces allocation staging is given: storage, event bus and plan executor.

Each has one real implementation, used unless a caller passes another; tests pass fakes here and
nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from rebalancing.allocation.plan import AllocationExecutionPlan


class StorageConflict(Exception):
    """A write met a row another request stored meanwhile (the same run_id raced us in).

    Carries the plan being stored: its run is replayed if the other request recorded it.
    """

    def __init__(self, plan: AllocationExecutionPlan) -> None:
        super().__init__(f"allocation run {plan.run_id!r} conflicts with a stored row")
        self.plan = plan


class AuditTrail(Protocol):
    def record_audit(
        self,
        *,
        event: str,
        actor: str,
        world_id: str,
        request: Mapping[str, Any],
        result: Mapping[str, Any],
    ) -> None: ...


class AllocationStorage(AuditTrail, Protocol):
    """Where allocations, their audit rows and recorded runs live."""

    def atomic(self) -> AbstractContextManager[object]:
        """One transaction around all the stages: everything is stored, or nothing."""
        ...

    def lock_worlds(self, world_ids: Sequence[str]) -> None:
        """Hold each world's allocation lock until the transaction ends."""
        ...

    def recorded_allocations(self, world_ids: Sequence[str]) -> dict[str, float]: ...

    def replayed(self, run_id: str, fingerprint: str) -> dict[str, Any] | None:
        """The stored answer of `run_id`, None if unused; 409 if used with another body."""
        ...

    def save_allocation(self, plan: AllocationExecutionPlan, world_id: str, share: Any) -> None:
        """Replace the world's allocation; raises `StorageConflict` on a race."""
        ...

    def record_run(self, plan: AllocationExecutionPlan) -> None:
        """Remember the answer under the run_id; raises `StorageConflict` on a race."""
        ...


class EventBus(Protocol):
    """The outbox: events recorded with the change and relayed later (docs/events.md)."""

    def record_event(self, *, world_id: str, type: str, data: Mapping[str, Any]) -> None: ...


@runtime_checkable
class PlanExecutor(Protocol):
    """Carries out a stored allocation plan when the request asked for `execute: true`."""

    def execute(
        self, plan: AllocationExecutionPlan, *, audit: AuditTrail, bus: EventBus
    ) -> None: ...
