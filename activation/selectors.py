"""Reads of the activation set for the API and the admin.

`read_entry` is the Gateway's hot path: in steady state it is one store round trip (one Lua call
on Redis) and no database query. Only the unusual cases do more: an expired override is reverted
before answering, and a set Redis lost is rebuilt (or answered as inactive meanwhile).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from activation.apply.models import ApplyRun
from activation.entries import Entry, Key, entry_etag, envelope, is_expired, now_text, set_hash
from activation.history import REPLAYED_AUDIT_EVENTS, recorded_state
from activation.store import EntryRead, SetState, get_store
from activation.store.watermark import highest_issued
from policies.models import PolicyApproval, WorldPolicy
from worlds.models import AUDITED_VERSION, WorldAuditLog
from worldservice.clock import rfc3339
from worldservice.state_hashes import StateHash

logger = logging.getLogger(__name__)


def _recovered(world_id: str) -> bool:
    """The store lost (or never had) the world's counter: ready it; False → answer inactive."""
    from activation.services.recovery import ensure_ready

    try:
        return ensure_ready(world_id)
    except Exception:
        logger.exception("could not rebuild the activation set of %s", world_id)
        return False


def _expire(world_id: str, keys: list[Key] | None) -> None:
    from activation.services.expiry import expire_lazily

    try:
        expire_lazily(world_id, keys)
    except Exception:
        logger.exception("could not revert the expired overrides of %s", world_id)


def read_entry(
    world_id: str, strategy_id: str, side: str, *, first_read: EntryRead | None = None
) -> dict[str, Any] | None:
    """The entry's ActivationEnvelope, or None (no entry, or the set is being rebuilt).

    `first_read` is the store read when the request already made it (see `worlds.hot_reads`).
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
    state_hash = got.state_hash or store.hash_state(world_id).state_hash
    return envelope(world_id, (strategy_id, side), entry, state_hash)


def _current_set(world_id: str) -> SetState | None:
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


def _set_body(
    world_id: str, version: int, entries: dict[Key, Entry], state_hash: str
) -> dict[str, Any]:
    return {
        "world_id": world_id,
        "version": version,
        "state_hash": state_hash,
        "entries": [envelope(world_id, key, entries[key], state_hash) for key in sorted(entries)],
    }


def read_set(world_id: str) -> tuple[dict[str, Any], bool]:
    """(`{"world_id", "version", "state_hash", "entries"}`, whether it is the real set).

    While the set is being rebuilt the answer is the empty set at the highest version issued
    (so a consumer holding that version sees its hash change) and must not be cached.
    """
    state = _current_set(world_id)
    if state is None:
        return _set_body(world_id, highest_issued(world_id), {}, set_hash(world_id, {})), False
    return _set_body(world_id, state.version, state.entries, state.state_hash), True


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


@dataclass(frozen=True, slots=True)
class DefaultSet:
    """The `policy_default_set` audit row that put a policy version in force."""

    version: int
    actor: str
    at: dt.datetime
    rollback: bool


def _default_set_at(world_id: str, at: dt.datetime) -> DefaultSet | None:
    row = (
        WorldAuditLog.objects.filter(
            world_id=world_id, event="policy_default_set", created_at__lte=at
        )
        .order_by("-id")
        .values_list("result", "actor", "created_at")
        .first()
    )
    if row is None:
        return None
    result, actor, created_at = row
    version = result.get("version") if isinstance(result, dict) else None
    if not isinstance(version, int):
        return None
    return DefaultSet(version, actor, created_at, bool(result.get("rollback")))


def _policy_version_at(world_id: str, at: dt.datetime) -> int | None:
    found = _default_set_at(world_id, at)
    return found.version if found is not None else None


def state_at(world_id: str, at: dt.datetime) -> dict[str, Any]:
    """The set as it stood at `at`, with the policy version then in force and the last change.

    Rebuilt from the latest snapshot taken by `at` and the activation audit rows recorded after
    it up to `at`.
    """
    recorded = recorded_state(world_id, at)
    state_hash = set_hash(world_id, recorded.entries)
    last = (
        WorldAuditLog.objects.filter(
            world_id=world_id,
            event__in=REPLAYED_AUDIT_EVENTS,
            result__has_key="version",
            created_at__lte=at,
        )
        .order_by("-id")
        .values_list("actor", "created_at")
        .first()
    )
    return {
        **_set_body(world_id, recorded.version, recorded.entries, state_hash),
        "at": rfc3339(at),
        "policy_version": _policy_version_at(world_id, at),
        "last_changed_by": last[0] if last else None,
        "last_changed_at": rfc3339(last[1]) if last else None,
    }


@dataclass(frozen=True, slots=True)
class ConsoleEntry:
    """One activation entry as the operators' console shows it."""

    strategy_id: str
    side: str
    active: bool
    weight: float
    freeze: bool
    drain: bool
    effective_mode: str | None
    version: int
    etag: str
    updated: str
    expires_at: str | None
    run_id: str | None
    written_by: str | None


@dataclass(frozen=True, slots=True)
class ConsoleState:
    """A world's whole activation set; `ready` is False while a lost set is being rebuilt."""

    world_id: str
    ready: bool
    version: int
    state_hash: str
    entries: list[ConsoleEntry]

    @property
    def active_count(self) -> int:
        return sum(entry.active for entry in self.entries)

    @property
    def frozen_count(self) -> int:
        return sum(entry.freeze for entry in self.entries)

    @property
    def draining_count(self) -> int:
        return sum(entry.drain for entry in self.entries)


def writers_by_version(world_id: str, versions: set[int]) -> dict[int, str]:
    """Who made each of the world's activation writes, by the version the write produced.

    One indexed query (worlds.models.AUDITED_VERSION) however many versions are asked for.
    """
    if not versions:
        return {}
    rows = (
        WorldAuditLog.objects.annotate(written_version=AUDITED_VERSION)
        .filter(
            world_id=world_id, event__in=REPLAYED_AUDIT_EVENTS, written_version__in=sorted(versions)
        )
        .values_list("written_version", "actor")
    )
    return {int(version): actor for version, actor in rows}


def _console_entry(world_id: str, key: Key, entry: Entry, writers: dict[int, str]) -> ConsoleEntry:
    version = int(entry["version"])
    return ConsoleEntry(
        strategy_id=key[0],
        side=key[1],
        active=bool(entry["active"]),
        weight=float(entry["weight"]),
        freeze=bool(entry.get("freeze")),
        drain=bool(entry.get("drain")),
        effective_mode=entry.get("effective_mode"),
        version=version,
        etag=entry_etag(world_id, key, entry),
        updated=str(entry.get("ts") or ""),
        expires_at=entry.get("expires_at"),
        run_id=entry.get("run_id"),
        written_by=writers.get(version),
    )


def console_state(world_id: str) -> ConsoleState:
    """The world's activation set for the console: each entry with its version, the time of its
    last write and who made it. Expired overrides are reverted first, as for any read."""
    state = _current_set(world_id)
    if state is None:
        return ConsoleState(world_id, False, highest_issued(world_id), set_hash(world_id, {}), [])
    writers = writers_by_version(
        world_id, {int(entry["version"]) for entry in state.entries.values()}
    )
    entries = [
        _console_entry(world_id, key, state.entries[key], writers) for key in sorted(state.entries)
    ]
    return ConsoleState(world_id, True, state.version, state.state_hash, entries)


@dataclass(frozen=True, slots=True)
class Review:
    user: str
    decision: str
    comment: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class LiveAt:
    """What was live in a world at one moment (see `live_at`)."""

    at: dt.datetime
    state: dict[str, Any]
    default: DefaultSet | None
    author: str | None
    reviews: list[Review]
    last_apply: ApplyRun | None


def _reviews_by(world_id: str, version: int, at: dt.datetime) -> list[Review]:
    approvals = (
        PolicyApproval.objects.filter(
            policy__world_id=world_id, policy__version=version, at__lte=at
        )
        .select_related("user")
        .order_by("at", "id")
    )
    return [
        Review(approval.user.get_username(), approval.decision, approval.comment, approval.at)
        for approval in approvals
    ]


def live_at(world_id: str, at: dt.datetime) -> LiveAt:
    """What was live in the world at `at`, for auditors.

    The activation set as it stood (`state_at`: the latest snapshot by then plus the writes
    recorded after it), the policy version then in force with who made it the default, who wrote
    it and who had reviewed it by then, and the last apply run that had finished by then.
    """
    default = _default_set_at(world_id, at)
    author = None
    reviews: list[Review] = []
    if default is not None:
        author = (
            WorldPolicy.objects.filter(world_id=world_id, version=default.version)
            .values_list("created_by__username", flat=True)
            .first()
        )
        reviews = _reviews_by(world_id, default.version, at)
    last_apply = (
        ApplyRun.objects.filter(world_id=world_id, finished_at__lte=at)
        .defer("request", "previous", "active", "weights")
        .order_by("-finished_at", "-id")
        .first()
    )
    return LiveAt(at, state_at(world_id, at), default, author, reviews, last_apply)
