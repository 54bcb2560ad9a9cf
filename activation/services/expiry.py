"""Reverting overrides whose TTL ran out.

An override written with `ttl_seconds` stores `expires_at` and the entry it replaced. Once expired
the entry reverts to that one (or goes away if the override created it), as a new, higher version,
with an `activation_override_expired` audit row and an `activation_updated` event
(`cause: "override_expired"`). This happens in the Celery beat task `expire_overrides` every few
seconds, and lazily when a read finds an expired entry, whichever comes first.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection

from django.db import transaction

from activation.entries import Entry, Key, entry_etag, is_expired, now_text, revert_target
from activation.locks import expiry_lock_name, world_mutex
from activation.services.changes import SYSTEM_ACTOR, publish_changes
from activation.services.snapshots import take_snapshot
from activation.store import EtagMismatch, get_store
from worlds.services.lookup import locked_world
from worldservice.api.errors import ServiceError

logger = logging.getLogger(__name__)

LAZY_WAIT_SECONDS = 2.0
LAZY_LOCK_SECONDS = 15.0


def _due(world_id: str, keys: Collection[Key] | None, moment: str) -> dict[Key, Entry]:
    """The world's entries (all, or among `keys`) whose override expired by `moment`."""
    state = get_store().get_all(world_id)
    if not state.ready:
        return {}
    return {
        key: entry
        for key, entry in state.entries.items()
        if (keys is None or key in keys) and is_expired(entry, moment)
    }


def expire_locked(
    world_id: str, *, keys: Collection[Key] | None = None, now: str | None = None
) -> int:
    """Revert the world's expired overrides (all, or among `keys`); the caller holds the world
    lock in its transaction. Returns how many entries were reverted."""
    moment = now or now_text()
    due = _due(world_id, keys, moment)
    if not due:
        return 0
    changes = {key: revert_target(entry, moment) for key, entry in due.items()}
    try:
        outcome = get_store().apply_changes(
            world_id,
            changes,
            expected={key: entry_etag(world_id, key, entry) for key, entry in due.items()},
        )
    except EtagMismatch:
        return 0  # changed meanwhile (an apply); the next pass looks again
    publish_changes(
        actor=SYSTEM_ACTOR,
        outcome=outcome,
        audit_event="activation_override_expired",
        cause="override_expired",
        reason="the override's ttl ran out",
    )
    take_snapshot(world_id, reason="override_expired")
    return len(due)


def expire_world(
    world_id: str, *, keys: Collection[Key] | None = None, now: str | None = None
) -> int:
    """Revert the world's expired overrides in a transaction of their own."""
    with transaction.atomic():
        locked_world(world_id)
        return expire_locked(world_id, keys=keys, now=now)


def expire_overrides(now: str | None = None) -> int:
    """Revert every expired override of every world (the beat task); the number reverted."""
    moment = now or now_text()
    by_world: dict[str, set[Key]] = defaultdict(set)
    for world_id, key in get_store().due_expiries(moment):
        by_world[world_id].add(key)
    reverted = 0
    for world_id, keys in sorted(by_world.items()):
        try:
            reverted += expire_world(world_id, keys=keys, now=moment)
        except ServiceError as exc:
            logger.warning("overrides of %s not expired: %s", world_id, exc.detail)
    return reverted


def expire_lazily(world_id: str, keys: Collection[Key] | None = None) -> None:
    """A read found an expired entry: revert it before answering.

    Many readers may find it at once; one takes the world's expiry lock and writes, the others
    wait for it (up to LAZY_WAIT_SECONDS) and find nothing left to do with one store read.
    """
    with world_mutex(
        expiry_lock_name(world_id), timeout=LAZY_LOCK_SECONDS, wait=LAZY_WAIT_SECONDS
    ) as acquired:
        if not acquired:
            return
        moment = now_text()
        state = get_store().get_all(world_id)
        if not any(
            is_expired(entry, moment)
            for key, entry in state.entries.items()
            if keys is None or key in keys
        ):
            return
        expire_world(world_id, keys=keys, now=moment)
