"""Fetching the world row that a write locks."""

from __future__ import annotations

from worlds.models import World
from worldservice.api.errors import NotFound


def locked_world(world_id: str) -> World:
    """The world row, locked for the rest of the transaction."""
    try:
        return World.objects.select_for_update().get(pk=world_id)
    except World.DoesNotExist as exc:
        raise NotFound(f"World {world_id!r} does not exist.") from exc
