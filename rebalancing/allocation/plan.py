"""The values the allocation stages hand to each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rebalancing.planner import RebalanceRequest


@dataclass(frozen=True, slots=True)
class AllocationOrder:
    """A `POST /allocations` body whose run_id and allocation map have the right shape."""

    run_id: str
    # The shares as sent (the planner checks each is a ratio); audit rows keep them as sent.
    allocations: Mapping[str, Any]
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class AllocationContext:
    """An order read against what is recorded: validated, role-checked and not a replay."""

    order: AllocationOrder
    actor: str
    # The last recorded share of each world named that has one.
    before: Mapping[str, float]
    request: RebalanceRequest
    fingerprint: str


@dataclass(frozen=True, slots=True)
class AllocationExecutionPlan:
    """A planned and stored allocation change: what an executor is handed."""

    context: AllocationContext
    # The planner's response body (`plan_to_dict`), the part every executor acts on.
    body: Mapping[str, Any]
    etag: str
    execute: bool

    @property
    def run_id(self) -> str:
        return self.context.order.run_id

    @property
    def actor(self) -> str:
        return self.context.actor

    @property
    def request(self) -> RebalanceRequest:
        return self.context.request

    def response(self) -> dict[str, Any]:
        """The `POST /allocations` answer: the plan plus `run_id`, `etag` and `executed`."""
        return {**self.body, "run_id": self.run_id, "etag": self.etag, "executed": self.execute}
