"""The real event bus: the transactional outbox (docs/events.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from worlds.events import record_event


class OutboxBus:
    def record_event(self, *, world_id: str, type: str, data: Mapping[str, Any]) -> None:
        record_event(world_id=world_id, type=type, data=data)
