"""Snapshots of whole activation sets, kept in the database for recovery and audit."""

from __future__ import annotations

import logging

from activation.entries import snapshot_rows
from activation.models import ActivationCounter, ActivationSnapshot
from activation.store import get_store
from activation.store.watermark import note_issued
from worlds.models import World
from worldservice.api.errors import DependencyUnavailable

logger = logging.getLogger(__name__)

REASON_MAX = 64


def latest_snapshot(world_id: str) -> ActivationSnapshot | None:
    return ActivationSnapshot.objects.filter(world_id=world_id).order_by("-version", "-id").first()


def _take(world_id: str, reason: str) -> tuple[ActivationSnapshot, bool]:
    store = get_store()
    state = store.get_all(world_id)
    if not state.ready:
        from activation.services.recovery import ensure_ready

        if not ensure_ready(world_id):
            raise DependencyUnavailable(
                f"The activation set of world {world_id!r} is being rebuilt; no snapshot taken.",
                code="activation_rebuilding",
            )
        state = store.get_all(world_id)
    latest = latest_snapshot(world_id)
    if latest is not None and (latest.version, latest.state_hash) == (
        state.version,
        state.state_hash,
    ):
        return latest, False
    snapshot = ActivationSnapshot.objects.create(
        world_id=world_id,
        version=state.version,
        entries=snapshot_rows(state.entries),
        state_hash=state.state_hash,
        reason=reason[:REASON_MAX],
    )
    note_issued(world_id, state.version)
    return snapshot, True


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
