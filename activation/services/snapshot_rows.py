"""Writing a snapshot of a set the store holds: the part recovery and `snapshots` share.

Recovery snapshots the set it has just rebuilt; `activation.services.snapshots` first rebuilds a
set the store lost (through recovery), then snapshots it. Keeping the write here lets each of the
two use it without importing the other.
"""

from __future__ import annotations

from activation.entries import snapshot_rows
from activation.models import ActivationSnapshot
from activation.store import get_store
from activation.store.watermark import note_issued

REASON_MAX = 64


def latest_snapshot(world_id: str) -> ActivationSnapshot | None:
    """The world's newest snapshot, if any."""
    return ActivationSnapshot.objects.filter(world_id=world_id).order_by("-version", "-id").first()


def snapshot_ready_set(world_id: str, reason: str) -> tuple[ActivationSnapshot, bool] | None:
    """(the snapshot of the set as it stands, whether it is new); None when the store has no set
    for the world right now (lost or never built), which is the caller's to rebuild.

    When the latest snapshot already holds this version and hash it is returned instead of a
    copy. Runs in the caller's transaction.
    """
    state = get_store().get_all(world_id)
    if not state.ready:
        return None
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
