"""Manual activation overrides (`PUT /worlds/{id}/activation`) and deactivating a whole world.

A write runs in one database transaction holding the world's row lock: the store write comes
first (a store failure rolls everything back), then the audit row, the outbox event and the
snapshot. Should the transaction fail after the store write, the store is put back as it was (as
a new version) so it never shows an unrecorded change.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Collection
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from activation.apply.selectors import apply_in_flight
from activation.entries import (
    EFFECTIVE_MODES,
    SIDES,
    Entry,
    Key,
    entry_etag,
    envelope,
    expiry_text,
)
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
from worldservice.api.identifiers import RUN_ID_REGEX, STRATEGY_ID_REGEX
from worldservice.limits import MAX_ACTIVATION_ENTRIES

logger = logging.getLogger(__name__)

REBUILD_WAIT_SECONDS = 5.0
MAX_TTL_SECONDS = 366 * 24 * 3600
WRITE_ATTEMPTS = 3
_STRATEGY_ID = re.compile(STRATEGY_ID_REGEX)
_RUN_ID = re.compile(RUN_ID_REGEX)


def _actor_name(actor: User | str) -> str:
    return actor if isinstance(actor, str) else actor.get_username()


def _validate(
    *,
    strategy_id: str,
    side: str,
    active: bool,
    weight: float,
    freeze: bool,
    drain: bool,
    effective_mode: str | None,
    run_id: str | None,
    ttl_seconds: int | None,
) -> None:
    """The contract's rules, for callers other than the API (whose serializer checks first)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(strategy_id, str) or not _STRATEGY_ID.match(strategy_id):
        errors["strategy_id"] = ["A strategy id is 1-128 characters without whitespace or '|'."]
    if side not in SIDES:
        errors["side"] = ["One of long, short."]
    for name, flag in (("active", active), ("freeze", freeze), ("drain", drain)):
        if not isinstance(flag, bool):
            errors[name] = ["Must be a boolean."]
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not math.isfinite(weight)
        or not 0 <= weight <= 1
    ):
        errors["weight"] = ["A number from 0 to 1."]
    if effective_mode is not None and effective_mode not in EFFECTIVE_MODES:
        errors["effective_mode"] = [f"One of {', '.join(EFFECTIVE_MODES)}, or null."]
    if run_id is not None and (not isinstance(run_id, str) or not _RUN_ID.match(run_id)):
        errors["run_id"] = ["A run id is 1-128 characters of A-Z a-z 0-9 _ . : -."]
    if ttl_seconds is not None and (
        isinstance(ttl_seconds, bool)
        or not isinstance(ttl_seconds, int)
        or not 1 <= ttl_seconds <= MAX_TTL_SECONDS
    ):
        errors["ttl_seconds"] = [f"A whole number of seconds from 1 to {MAX_TTL_SECONDS}."]
    if errors:
        raise InvalidInput("The activation override is not valid.", errors=errors)


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

    Refusals: unknown world 404; If-Match mismatch 412; an apply in flight 409
    `apply_in_progress`; `effective_mode: "live"` without `allow_live` 409 `live_not_allowed`;
    a DELETED world 409 `world_deleted`; enabling an entry of a SUSPENDED world 409
    `world_suspended`; a set being rebuilt 503 `activation_rebuilding`.
    With `ttl_seconds` the override reverts on its own (see `activation.services.expiry`).
    """
    _validate(
        strategy_id=strategy_id,
        side=side,
        active=active,
        weight=weight,
        freeze=freeze,
        drain=drain,
        effective_mode=effective_mode,
        run_id=run_id,
        ttl_seconds=ttl_seconds,
    )
    name = _actor_name(actor)
    key: Key = (strategy_id, side)
    get_world(world_id)  # 404 before anything else
    if not ensure_ready(world_id, wait_seconds=REBUILD_WAIT_SECONDS):
        raise _not_ready(world_id)
    store = get_store()
    request = {
        "active": active,
        "weight": float(weight),
        "freeze": freeze,
        "drain": drain,
        "effective_mode": effective_mode,
        "run_id": run_id,
        "ttl_seconds": ttl_seconds,
        "reason": reason,
        "if_match": sorted(expected_etags),
    }
    written: WriteOutcome | None = None
    try:
        with transaction.atomic():
            world = locked_world(world_id)
            _check_world(
                world, enabling=active and not freeze and not drain, effective_mode=effective_mode
            )
            if apply_in_flight(world_id):
                raise Conflict(
                    f"An apply is in flight for world {world_id!r}; try again when it is done.",
                    code="apply_in_progress",
                    headers={"Retry-After": "1"},
                )
            expire_locked(world_id, keys=[key])
            current = store.get(world_id, strategy_id, side)
            if not current.ready:
                raise _not_ready(world_id)
            current_etag = (
                entry_etag(world_id, key, current.entry) if current.entry is not None else None
            )
            _check_if_match(expected_etags, current_etag)
            _check_room(store, world_id, current.entry)
            entry: Entry = {
                "active": active,
                "weight": float(weight),
                "freeze": freeze,
                "drain": drain,
                "effective_mode": effective_mode,
                "run_id": run_id,
            }
            if ttl_seconds is not None:
                entry["expires_at"] = expiry_text(ttl_seconds)
                entry["previous"] = current.entry
            try:
                written = store.write(
                    world_id,
                    strategy_id,
                    side,
                    entry,
                    if_match=current_etag,
                    if_absent=current_etag is None,
                )
            except EtagMismatch as exc:
                if expected_etags:
                    raise
                raise Conflict(
                    "The activation entry changed while it was being overridden; try again.",
                    code="concurrent_update",
                ) from exc
            publish_changes(
                actor=name, outcome=written, cause="override", reason=reason, request=request
            )
            take_snapshot(world_id, reason="override")
    except BaseException:
        if written is not None:
            _compensate(written, name)
        raise
    after = written.after[key]
    if after is None:
        raise RuntimeError("an override wrote no entry")
    return envelope(world_id, key, after, written.state_hash)


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
