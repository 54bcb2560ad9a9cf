"""Reading the current activation set, repairing it first when needed.

`read_entry` is the Gateway's hot path: in steady state it is one store round trip (one Lua call
on Redis) and no database query. Only the unusual cases do more, and those write, which is why
these reads are services rather than selectors: an expired override is reverted before answering,
and a set Redis lost is rebuilt (or answered as inactive meanwhile). See docs/activation.md.
"""

from __future__ import annotations

import logging
from typing import Any

from activation.entries import Key, envelope, is_expired, now_text, set_body, set_hash
from activation.services.expiry import expire_lazily
from activation.services.recovery import ensure_ready
from activation.store import EntryRead, SetState, get_store
from activation.store.watermark import highest_issued
from worldservice.held import DerivedOnce
from worldservice.state_hashes import StateHash

logger = logging.getLogger(__name__)

# The envelope of each entry read (often a copy this process holds, read after read; see
# `worldservice.held`): the same object each time, so its JSON is encoded once too.
HELD_ENVELOPES: DerivedOnce[dict[str, Any]] = DerivedOnce()


def _recovered(world_id: str) -> bool:
    """The store lost (or never had) the world's counter: ready it; False → answer inactive."""
    try:
        return ensure_ready(world_id)
    except Exception:
        logger.exception("could not rebuild the activation set of %s", world_id)
        return False


def _expire(world_id: str, keys: list[Key] | None) -> None:
    try:
        expire_lazily(world_id, keys)
    except Exception:
        logger.exception("could not revert the expired overrides of %s", world_id)


def read_entry(
    world_id: str, strategy_id: str, side: str, *, first_read: EntryRead | None = None
) -> dict[str, Any] | None:
    """The entry's ActivationEnvelope, or None (no entry, or the set is being rebuilt).

    `first_read` is the store read when the request already made it (see `worlds.hot_reads`).
    The envelope may be shared with other reads of the same store read: never change it.
    """
    store = get_store()
    got = first_read if first_read is not None else store.get(world_id, strategy_id, side)
    if not got.ready:
        if not _recovered(world_id):
            return None
        got = store.get(world_id, strategy_id, side)
    entry = got.entry
    if entry is not None and entry.get("expires_at") and is_expired(entry, now_text()):
        _expire(world_id, [(strategy_id, side)])
        got = store.get(world_id, strategy_id, side)
        entry = got.entry
    if entry is None:
        return None
    key = (strategy_id, side)
    if got.state_hash is not None:  # a pure function of the read: built once per read object
        tag = (world_id, strategy_id, side)
        return HELD_ENVELOPES.get(got, lambda: envelope(world_id, key, entry, got.state_hash), tag)
    return envelope(world_id, key, entry, store.hash_state(world_id).state_hash)


def ready_set(world_id: str) -> SetState | None:
    """The whole set with expired overrides reverted; None while it is being rebuilt."""
    store = get_store()
    state = store.get_all(world_id)
    if not state.ready:
        if not _recovered(world_id):
            return None
        state = store.get_all(world_id)
    moment = now_text()
    if any(is_expired(entry, moment) for entry in state.entries.values()):
        _expire(world_id, None)
        state = store.get_all(world_id)
    return state


def read_set(world_id: str) -> tuple[dict[str, Any], bool]:
    """(`{"world_id", "version", "state_hash", "entries"}`, whether it is the real set).

    While the set is being rebuilt the answer is the empty set at the highest version issued
    (so a consumer holding that version sees its hash change) and must not be cached.
    """
    state = ready_set(world_id)
    if state is None:
        return set_body(world_id, highest_issued(world_id), {}, set_hash(world_id, {})), False
    return set_body(world_id, state.version, state.entries, state.state_hash), True


def read_state_hash(world_id: str) -> StateHash:
    """`{"state_hash", "version"}` of the whole set (of the empty set while it is rebuilt).

    The reader of the state hash topic `activation` (registered in `activation.apps`).
    """
    store = get_store()
    hashed = store.hash_state(world_id)
    if not hashed.ready:
        if not _recovered(world_id):
            return {"state_hash": set_hash(world_id, {}), "version": highest_issued(world_id)}
        hashed = store.hash_state(world_id)
    return {"state_hash": hashed.state_hash, "version": hashed.version}
