"""Recording what a store write changed: one audit row and one event per changed entry.

Callers run this inside the transaction that made the store write, right after it, so the audit
rows and the outbox events commit (or roll back) with the rest of the change.

The audit rows double as the activation history: `activation.history` replays them on top of a
snapshot (point-in-time reads, rebuilds). Each row's `result` therefore carries the entry exactly
as stored:

    {"world_id", "strategy_id", "side", "entry": <stored entry or null when removed>,
     "before": <stored entry before, without its `previous`, or null>, "version", "etag",
     "run_id", "state_hash", "cause", "reason"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activation.entries import Entry, Key, make_etag
from activation.store.base import WriteOutcome
from worlds.audit import record_audit
from worlds.events import record_events

SYSTEM_ACTOR = "system"


def _without_previous(entry: Mapping[str, Any] | None) -> Entry | None:
    if entry is None:
        return None
    return {name: value for name, value in entry.items() if name != "previous"}


def event_data(
    world_id: str, key: Key, entry: Mapping[str, Any] | None, *, version: int, state_hash: str
) -> dict[str, Any]:
    """The `activation_updated` event data (docs/events.md#types-and-their-data); a removed entry
    reads inactive."""
    data: dict[str, Any] = {
        "world_id": world_id,
        "strategy_id": key[0],
        "side": key[1],
        "active": False,
        "weight": 0.0,
        "freeze": False,
        "drain": False,
        "effective_mode": None,
        "etag": make_etag(world_id, key, version),
        "run_id": None,
        "ts": None,
        "expires_at": None,
        "version": version,
        "state_hash": state_hash,
    }
    if entry is None:
        data["removed"] = True
        return data
    for name in ("active", "weight", "freeze", "drain", "effective_mode", "run_id", "ts"):
        data[name] = entry.get(name)
    data["expires_at"] = entry.get("expires_at")
    return data


def publish_changes(
    *,
    actor: str,
    outcome: WriteOutcome,
    audit_event: str = "activation_updated",
    cause: str,
    reason: str = "",
    request: Mapping[str, Any] | None = None,
    event_extra: Mapping[str, Any] | None = None,
    per_key_extra: Mapping[Key, Mapping[str, Any]] | None = None,
) -> None:
    """Audit rows and `activation_updated` events for every key the write changed.

    `cause` says why (`override`, `override_expired`, `world_deleted`, `restore`, ...) and goes
    into both. `event_extra` is merged into every event's data and `per_key_extra` into one key's
    (the apply uses them for `phase`, `requires_ack` and `sequence`).
    """
    world_id = outcome.world_id
    items = []
    for key in sorted(outcome.after):
        after = outcome.after[key]
        etag = make_etag(world_id, key, outcome.version)
        record_audit(
            event=audit_event,
            actor=actor,
            world_id=world_id,
            request={
                **(request or {}),
                "strategy_id": key[0],
                "side": key[1],
                "cause": cause,
            },
            result={
                "world_id": world_id,
                "strategy_id": key[0],
                "side": key[1],
                "entry": after,
                "before": _without_previous(outcome.before.get(key)),
                "version": outcome.version,
                "etag": etag,
                "run_id": after.get("run_id") if after else None,
                "state_hash": outcome.state_hash,
                "cause": cause,
                "reason": reason,
            },
        )
        data = event_data(
            world_id, key, after, version=outcome.version, state_hash=outcome.state_hash
        )
        data["cause"] = cause
        data.update(event_extra or {})
        data.update((per_key_extra or {}).get(key, {}))
        items.append(data)
    if items:
        record_events(world_id=world_id, type="activation_updated", items=items)
