"""The storage, bus and executor one allocation request runs with."""

from __future__ import annotations

from dataclasses import dataclass

from rebalancing.allocation.bus import OutboxBus
from rebalancing.allocation.executors import configured_executor
from rebalancing.allocation.ports import AllocationStorage, EventBus, PlanExecutor
from rebalancing.allocation.storage import DjangoAllocationStorage


@dataclass(frozen=True, slots=True)
class AllocationSeam:
    storage: AllocationStorage
    bus: EventBus
    executor: PlanExecutor

    @classmethod
    def resolve(
        cls,
        storage: AllocationStorage | None = None,
        bus: EventBus | None = None,
        executor: PlanExecutor | None = None,
    ) -> AllocationSeam:
        """The ones given, and the real one for each that is not."""
        return cls(
            storage=DjangoAllocationStorage() if storage is None else storage,
            bus=OutboxBus() if bus is None else bus,
            executor=configured_executor() if executor is None else executor,
        )
