"""Fixtures for governed world changes: a governed world, its owner, approvers, a snapshot."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import UserFactory
from worlds.models import (
    World,
    WorldAuditLog,
    WorldChange,
    WorldChangeApproval,
    WorldEvent,
)
from worlds.services.world_writes import world_snapshot

APPROVER = "policies.approve_worldpolicy"


@pytest.fixture
def approver(db: None) -> Any:
    """A global approver with no role on the world (approvers review without one)."""
    return UserFactory(username="abby", permissions=[APPROVER])


@pytest.fixture
def second_approver(db: None) -> Any:
    return UserFactory(username="bert", permissions=[APPROVER])


def stored_state(world_id: str = "alpha") -> dict[str, Any]:
    """Everything a refused request must leave as it was."""
    world = World.objects.get(pk=world_id)
    return {
        "world": world_snapshot(world),
        "revision": world.revision,
        "changes": list(WorldChange.objects.values_list("id", "status").order_by("id")),
        "reviews": WorldChangeApproval.objects.count(),
        "audit": WorldAuditLog.objects.count(),
        "events": WorldEvent.objects.count(),
    }


@pytest.fixture
def unchanged() -> Any:
    """`unchanged.before()` then `unchanged.check()`: nothing was stored in between."""

    class Unchanged:
        def __init__(self) -> None:
            self.state: dict[str, Any] | None = None

        def before(self, world_id: str = "alpha") -> None:
            self.world_id = world_id
            self.state = stored_state(world_id)

        def check(self) -> None:
            assert stored_state(self.world_id) == self.state

    return Unchanged()
