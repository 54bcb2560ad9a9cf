"""Recovering a lost activation set (Redis flushed or restarted without its data).

A Redis store without a world's version counter is *not ready*. The durable high-water mark
(`ActivationCounter`) tells the two cases apart: no version ever issued → a new world, the counter
is created at 0; a version was issued → the set was lost and is rebuilt from the latest snapshot
plus the activation audit rows recorded after it, at a version above every version ever issued.

One process rebuilds at a time (Redis lock `world:<id>:active:rebuild`); the others answer reads
as inactive until it is done (see docs/activation.md, "Recovery").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from activation.entries import Entry, Key
from activation.history import recorded_state
from activation.locks import rebuild_lock_name, world_mutex
from activation.models import ActivationCounter, ActivationSnapshot
from activation.services.changes import SYSTEM_ACTOR, publish_changes
from activation.services.snapshot_rows import snapshot_ready_set
from activation.store import get_store
from activation.store.watermark import highest_issued, locked_counter
from worlds.models import World, WorldState
from worlds.services.lookup import locked_world
from worldservice.api.errors import NotFound

logger = logging.getLogger(__name__)

REBUILD_LOCK_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class RestoreResult:
    world_id: str
    version: int
    entries: int
    snapshot_version: int | None
    replayed: int
    restored: bool = True


def deactivated(entry: Entry) -> Entry:
    """An entry gated off for good: inactive, no override left to revert to."""
    return {**entry, "active": False, "expires_at": None, "previous": None}


def ensure_ready(world_id: str, *, wait_seconds: float = 0.0) -> bool:
    """Make sure the store holds the world's counter; False when another process is rebuilding.

    A never-written world gets its counter at 0. A lost set is rebuilt here when this process
    takes the rebuild lock (waiting up to `wait_seconds` for it).
    """
    store = get_store()
    if store.is_ready(world_id):
        return True
    with transaction.atomic():
        # The counter row lock orders this check with writers raising the mark.
        counter = locked_counter(world_id)
        if (
            counter.version == 0
            and not ActivationSnapshot.objects.filter(world_id=world_id).exists()
        ):
            store.initialize(world_id)
            return True
    return rebuild(world_id, wait_seconds=wait_seconds)


def rebuild(world_id: str, *, wait_seconds: float = 0.0, force: bool = False) -> bool:
    """Rebuild the world's set under the rebuild lock; False when someone else holds it.

    Without `force` a set that became ready meanwhile (another process rebuilt it) is left alone.
    """
    with world_mutex(
        rebuild_lock_name(world_id), timeout=REBUILD_LOCK_SECONDS, wait=wait_seconds
    ) as acquired:
        if not acquired:
            return False
        if not force and get_store().is_ready(world_id):
            return True
        result = restore_world(world_id, cause="restore" if force else "rebuild")
        logger.warning(
            "activation set of %s rebuilt at version %s (%s entries, snapshot v%s, %s replayed)",
            world_id,
            result.version,
            result.entries,
            result.snapshot_version,
            result.replayed,
        )
        return True


def restore_world(
    world_id: str, *, cause: str = "restore", actor: str = SYSTEM_ACTOR
) -> RestoreResult:
    """Replace the world's set with the recorded one, at a version above any ever issued.

    Records an audit row and an `activation_updated` event per restored entry (so consumers that
    saw newer versions accept them) and a snapshot. A DELETED world's entries come back inactive.
    """
    store = get_store()
    with transaction.atomic():
        world = locked_world(world_id)
        recorded = recorded_state(world_id)
        entries: dict[Key, Entry] = dict(recorded.entries)
        if world.state == WorldState.DELETED:
            entries = {key: deactivated(entry) for key, entry in entries.items()}
        floor = max(recorded.version, highest_issued(world_id)) + 1
        outcome = store.replace_all(world_id, entries, min_version=floor)
        publish_changes(
            actor=actor,
            outcome=outcome,
            cause=cause,
            reason=f"rebuilt from snapshot v{recorded.snapshot_version or 0} "
            f"and {recorded.replayed} later change(s)",
        )
        snapshot_ready_set(world_id, cause)  # the set was just rebuilt: the store holds it
    return RestoreResult(
        world_id, outcome.version, len(entries), recorded.snapshot_version, recorded.replayed
    )


def _worlds_to_restore(world_id: str | None) -> list[str]:
    """The one named, or every world with an issued version or a snapshot."""
    if world_id is not None:
        if not World.objects.filter(pk=world_id).exists():
            raise NotFound(f"World {world_id!r} does not exist.")
        return [world_id]
    with_versions = set(
        ActivationCounter.objects.filter(version__gt=0).values_list("world_id", flat=True)
    )
    with_snapshots = set(ActivationSnapshot.objects.values_list("world_id", flat=True))
    return sorted(
        World.objects.filter(pk__in=with_versions | with_snapshots).values_list("id", flat=True)
    )


def _kept(world_id: str) -> RestoreResult | None:
    """Without `force`: the answer for a world that needs no rebuild, or None if it does."""
    store = get_store()
    if store.is_ready(world_id):
        return RestoreResult(world_id, store.version(world_id), -1, None, 0, restored=False)
    if (
        highest_issued(world_id) == 0
        and not ActivationSnapshot.objects.filter(world_id=world_id).exists()
    ):
        store.initialize(world_id)  # never written: an empty set is the whole truth
        return RestoreResult(world_id, 0, 0, None, 0, restored=False)
    return None


def _rebuilt(world_id: str, *, force: bool, wait_seconds: float) -> RestoreResult:
    """Rebuild one world's set under the rebuild lock (unless another process just did)."""
    with world_mutex(
        rebuild_lock_name(world_id), timeout=REBUILD_LOCK_SECONDS, wait=wait_seconds
    ) as acquired:
        if not acquired:
            raise RuntimeError(f"another process is rebuilding world {world_id!r}; try again")
        store = get_store()
        if not force and store.is_ready(world_id):
            return RestoreResult(world_id, store.version(world_id), -1, None, 0, False)
        return restore_world(world_id, cause="restore" if force else "rebuild")


def restore_worlds(
    world_id: str | None = None, *, force: bool = False, wait_seconds: float = 30.0
) -> list[RestoreResult]:
    """`restore_activation`: rebuild the lost sets (all, or `force`: rewrite them anyway).

    Worlds considered: the one named, or every world with an issued version or a snapshot.
    """
    results = []
    for name in _worlds_to_restore(world_id):
        kept = None if force else _kept(name)
        results.append(
            kept if kept is not None else _rebuilt(name, force=force, wait_seconds=wait_seconds)
        )
    return results
