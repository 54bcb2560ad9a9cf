"""Manual activation overrides (`PUT /worlds/{id}/activation`) and deactivating a whole world.

A write runs in one database transaction holding the world's row lock: the store write comes
first (a store failure rolls everything back), then the audit row, the outbox event and the
snapshot. Should the transaction fail after the store write, the store is put back as it was (as
a new version) so it never shows an unrecorded change.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from activation.apply.selectors import apply_in_flight
from activation.entries import Entry, Key, entry_etag, envelope, expiry_text
from activation.override_rules import MAX_TTL_SECONDS, check_override
from activation.services.changes import publish_changes
from activation.services.expiry import expire_locked
from activation.services.recovery import deactivated, ensure_ready
from activation.services.snapshots import take_snapshot
from activation.store import ABSENT, EtagMismatch, WriteOutcome, get_store
from activation.store.base import ActivationStore
from worlds.models import World, WorldState
from worlds.selectors import get_world
from worlds.services.lookup import locked_world
from worldservice.api.errors import (
    Conflict,
    DependencyUnavailable,
    InvalidInput,
    PreconditionFailed,
)
from worldservice.api.etags import require_match
from worldservice.limits import MAX_ACTIVATION_ENTRIES

logger = logging.getLogger(__name__)

__all__ = ["MAX_TTL_SECONDS", "deactivate_all", "override_activation"]

ENTRY_FIELDS = ("active", "weight", "freeze", "drain", "effective_mode", "run_id")
REBUILD_WAIT_SECONDS = 5.0
WRITE_ATTEMPTS = 3


def _actor_name(actor: User | str) -> str:
    return actor if isinstance(actor, str) else actor.get_username()


@dataclass(frozen=True, slots=True)
class _Override:
    """One override, its fields checked (`activation.override_rules`)."""

    actor: str
    world_id: str
    key: Key
    entry: Entry  # active, weight, freeze, drain, effective_mode, run_id
    ttl_seconds: int | None
    reason: str
    expected_etags: frozenset[str]

    @classmethod
    def of(
        cls, actor: str, world_id: str, fields: dict[str, Any], expected_etags: frozenset[str]
    ) -> _Override:
        """The override of `fields` (checked by `check_override`)."""
        entry = {name: fields[name] for name in ENTRY_FIELDS}
        return cls(
            actor=actor,
            world_id=world_id,
            key=(fields["strategy_id"], fields["side"]),
            entry={**entry, "weight": float(fields["weight"])},
            ttl_seconds=fields["ttl_seconds"],
            reason=fields["reason"],
            expected_etags=expected_etags,
        )

    @property
    def enabling(self) -> bool:
        """Whether the entry may trade: what a suspended world refuses."""
        return bool(self.entry["active"] and not self.entry["freeze"] and not self.entry["drain"])

    def audit_request(self) -> dict[str, Any]:
        """The override as the audit row records it."""
        return {
            **self.entry,
            "ttl_seconds": self.ttl_seconds,
            "reason": self.reason,
            "if_match": sorted(self.expected_etags),
        }


def _check_world(world: World, *, enabling: bool, effective_mode: str | None) -> None:
    if world.state == WorldState.DELETED:
        raise Conflict(
            f"World {world.id!r} is deleted; its entries stay inactive.", code="world_deleted"
        )
    if world.state == WorldState.SUSPENDED and enabling:
        raise Conflict(
            f"World {world.id!r} is suspended: overrides may only gate entries off "
            "(active false, or freeze/drain).",
            code="world_suspended",
        )
    if effective_mode == "live" and not world.allow_live:
        raise Conflict(
            f"World {world.id!r} does not allow live trading (allow_live is false).",
            code="live_not_allowed",
        )


def _check_if_match(expected: Collection[str], current: str | None) -> None:
    if not expected:
        return
    if current is None:
        raise PreconditionFailed(
            "The activation entry does not exist, so If-Match cannot match.",
            errors={"If-Match": ["no such entry"]},
        )
    require_match(set(expected), current)


def _check_room(store: ActivationStore, world_id: str, current: Entry | None) -> None:
    """A new entry (`current` is None) must fit under the bound on entries per world (each
    override snapshots the whole set, so its cost grows with the set)."""
    if current is None and len(store.get_all(world_id).entries) >= MAX_ACTIVATION_ENTRIES:
        raise InvalidInput(
            f"World {world_id!r} holds at most {MAX_ACTIVATION_ENTRIES} activation entries.",
            errors={"strategy_id": ["A new entry would pass the limit."]},
        )


def _not_ready(world_id: str) -> DependencyUnavailable:
    return DependencyUnavailable(
        f"The activation set of world {world_id!r} is being rebuilt; try again shortly.",
        code="activation_rebuilding",
        headers={"Retry-After": "1"},
    )


def _compensate(outcome: WriteOutcome, actor: str) -> None:
    """Put back what a failed transaction's store write changed (best effort, logged).

    Only for a store outside the database transaction (Redis): the database store's write
    rolled back with the transaction already.
    """
    store = get_store()
    if store.transactional:
        return
    changes = {key: outcome.before.get(key) for key in outcome.after}
    expected = {
        key: (outcome.etag(key) if outcome.after[key] is not None else ABSENT)
        for key in outcome.after
    }
    try:
        back = store.apply_changes(outcome.world_id, changes, expected=expected)
    except Exception:
        logger.exception("could not undo the activation write of %s", outcome.world_id)
        return
    try:
        with transaction.atomic():
            publish_changes(
                actor=actor,
                outcome=back,
                cause="compensation",
                reason=f"undoes version {outcome.version}, whose transaction failed",
            )
    except Exception:
        logger.exception("could not record the undo of %s v%s", outcome.world_id, back.version)


def override_activation(
    *,
    actor: User | str,
    world_id: str,
    strategy_id: str,
    side: str,
    active: bool,
    weight: float = 1.0,
    freeze: bool = False,
    drain: bool = False,
    effective_mode: str | None = None,
    run_id: str | None = None,
    ttl_seconds: int | None = None,
    reason: str = "",
    expected_etags: Collection[str] = frozenset(),
) -> dict[str, Any]:
    """Set one activation entry by hand; the new ActivationEnvelope.

    Refusals: a field breaking its rule 400 (`activation.override_rules`); unknown world 404;
    If-Match mismatch 412; an apply in flight 409 `apply_in_progress`; `effective_mode: "live"`
    without `allow_live` 409 `live_not_allowed`; a DELETED world 409 `world_deleted`; enabling an
    entry of a SUSPENDED world 409 `world_suspended`; a set being rebuilt 503
    `activation_rebuilding`. With `ttl_seconds` the override reverts on its own (see
    `activation.services.expiry`).
    """
    fields: dict[str, Any] = {
        "strategy_id": strategy_id,
        "side": side,
        "active": active,
        "weight": weight,
        "freeze": freeze,
        "drain": drain,
        "effective_mode": effective_mode,
        "run_id": run_id,
        "ttl_seconds": ttl_seconds,
        "reason": reason,
    }
    check_override(fields)
    override = _Override.of(_actor_name(actor), world_id, fields, frozenset(expected_etags))
    get_world(world_id)  # 404 before anything else
    if not ensure_ready(world_id, wait_seconds=REBUILD_WAIT_SECONDS):
        raise _not_ready(world_id)
    written = _write(override)
    after = written.after[override.key]
    if after is None:
        raise RuntimeError("an override wrote no entry")
    return envelope(world_id, override.key, after, written.state_hash)


def _write(override: _Override) -> WriteOutcome:
    """The store write with its audit rows, event and snapshot, in one transaction; a store
    write whose transaction fails is put back (`_compensate`)."""
    written: WriteOutcome | None = None
    try:
        with transaction.atomic():
            written = _write_locked(override, get_store())
            publish_changes(
                actor=override.actor,
                outcome=written,
                cause="override",
                reason=override.reason,
                request=override.audit_request(),
            )
            take_snapshot(override.world_id, reason="override")
    except BaseException:
        if written is not None:
            _compensate(written, override.actor)
        raise
    return written


def _write_locked(override: _Override, store: ActivationStore) -> WriteOutcome:
    """Under the world's row lock: the checks that need the world and the entry, then the write."""
    world_id, (strategy_id, side) = override.world_id, override.key
    world = locked_world(world_id)
    _check_world(world, enabling=override.enabling, effective_mode=override.entry["effective_mode"])
    _check_no_apply(world_id)
    expire_locked(world_id, keys=[override.key])
    current = store.get(world_id, strategy_id, side)
    if not current.ready:
        raise _not_ready(world_id)
    current_etag = (
        entry_etag(world_id, override.key, current.entry) if current.entry is not None else None
    )
    _check_if_match(override.expected_etags, current_etag)
    _check_room(store, world_id, current.entry)
    entry = dict(override.entry)
    if override.ttl_seconds is not None:
        entry["expires_at"] = expiry_text(override.ttl_seconds)
        entry["previous"] = current.entry
    try:
        return store.write(
            world_id,
            strategy_id,
            side,
            entry,
            if_match=current_etag,
            if_absent=current_etag is None,
        )
    except EtagMismatch as exc:
        if override.expected_etags:
            raise
        raise Conflict(
            "The activation entry changed while it was being overridden; try again.",
            code="concurrent_update",
        ) from exc


def _check_no_apply(world_id: str) -> None:
    if apply_in_flight(world_id):
        raise Conflict(
            f"An apply is in flight for world {world_id!r}; try again when it is done.",
            code="apply_in_progress",
            headers={"Retry-After": "1"},
        )


def deactivate_all(*, actor: User | str, world_id: str) -> int | None:
    """Gate every entry of the world off for good (world DELETE); the new version.

    Every entry becomes inactive with no TTL left to revert (one atomic write, one version),
    with an audit row and an `activation_updated` event each (`cause: "world_deleted"`), and a
    snapshot. It ignores the apply lock: deleting the world wins. Meant to run inside the
    caller's transaction (`delete_world`, holding the world lock). Returns None when another
    process is rebuilding the world's lost set right now: that rebuild waits for the world lock,
    finds the world DELETED and restores every entry inactive.
    """
    name = _actor_name(actor)
    store = get_store()
    with transaction.atomic():
        locked_world(world_id)
        if not store.is_ready(world_id) and not ensure_ready(world_id):
            return None
        for _ in range(WRITE_ATTEMPTS):
            state = store.get_all(world_id)
            if not state.entries:
                return state.version
            changes = {key: deactivated(entry) for key, entry in state.entries.items()}
            expected = {
                key: entry_etag(world_id, key, entry) for key, entry in state.entries.items()
            }
            try:
                outcome = store.apply_changes(world_id, changes, expected=expected)
            except EtagMismatch:
                continue
            publish_changes(
                actor=name,
                outcome=outcome,
                cause="world_deleted",
                reason="the world was deleted: every entry is inactive",
            )
            take_snapshot(world_id, reason="world_deleted")
            return outcome.version
    raise Conflict(
        f"The activation set of world {world_id!r} kept changing; try again.",
        code="concurrent_update",
    )
