"""Snapshots of whole activation sets, kept in the database for recovery and audit."""

from __future__ import annotations

import logging

from activation.models import ActivationCounter, ActivationSnapshot
from activation.services.recovery import ensure_ready
from activation.services.snapshot_rows import latest_snapshot, snapshot_ready_set
from worlds.models import World
from worldservice.api.errors import DependencyUnavailable

logger = logging.getLogger(__name__)

__all__ = ["latest_snapshot", "snapshot_all_worlds", "take_snapshot"]


def _take(world_id: str, reason: str) -> tuple[ActivationSnapshot, bool]:
    taken = snapshot_ready_set(world_id, reason)
    if taken is None and ensure_ready(world_id):  # a set the store lost is rebuilt first
        taken = snapshot_ready_set(world_id, reason)
    if taken is None:
        raise DependencyUnavailable(
            f"The activation set of world {world_id!r} is being rebuilt; no snapshot taken.",
            code="activation_rebuilding",
        )
    return taken


def take_snapshot(world_id: str, reason: str = "") -> ActivationSnapshot:
    """Store the world's whole set as it stands now; one snapshot per version.

    When the latest snapshot already holds this version, it is returned instead of a copy. A set
    Redis has lost is rebuilt first (never snapshot as empty). Runs in the caller's transaction.
    """
    return _take(world_id, reason)[0]


def snapshot_all_worlds(reason: str = "periodic") -> int:
    """Snapshot every world that ever had an activation version; the number of new snapshots."""
    world_ids = list(
        ActivationCounter.objects.filter(
            version__gt=0, world_id__in=World.objects.values("id")
        ).values_list("world_id", flat=True)
    )
    taken = 0
    for world_id in world_ids:
        try:
            _, created = _take(world_id, reason)
        except DependencyUnavailable as exc:
            logger.warning("no snapshot of %s: %s", world_id, exc.detail)
            continue
        taken += int(created)
    return taken
