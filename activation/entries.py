"""Activation entries: their stored form, their public envelope and the set's canonical hash.

An entry is keyed by `(strategy_id, side)`. Its stored form is a JSON object:

    {"version": 42, "active": true, "weight": 1.0, "freeze": false, "drain": false,
     "effective_mode": null, "run_id": "7a1b4c", "ts": "2025-08-28T09:00:00Z",
     "expires_at": null, "previous": null}

`version` is the world version of the entry's last write (its etag is
`act:{world}:{strategy}:{side}:{version}`), `ts` the time of that write (second precision).
`expires_at` and `previous` belong to an override with a TTL: when it expires the entry reverts to
`previous` (the stored entry the override replaced; null when the override created the entry, so
the entry goes away). `previous` is internal: it is never part of the envelope or the state hash.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from worldservice.canonical import content_hash
from worldservice.clock import rfc3339

Key = tuple[str, str]
Entry = dict[str, Any]

SIDES = ("long", "short")
EFFECTIVE_MODES = ("validate", "compute-only", "paper", "live", "shadow")
STORED_FIELDS = (
    "active",
    "weight",
    "freeze",
    "drain",
    "effective_mode",
    "run_id",
    "ts",
    "expires_at",
    "previous",
)
# The fields of an entry that the state hash covers, in addition to strategy_id and side.
HASHED_FIELDS = (
    "active",
    "weight",
    "freeze",
    "drain",
    "effective_mode",
    "etag",
    "run_id",
    "ts",
    "expires_at",
)
# A chain of TTL overrides keeps at most this many entries to revert to.
MAX_PREVIOUS_DEPTH = 8


def field_name(key: Key) -> str:
    """The Redis hash field of an entry: `<strategy_id>|<side>` (strategy ids never hold `|`)."""
    return f"{key[0]}|{key[1]}"


def key_of_field(field: str) -> Key:
    strategy_id, _, side = field.rpartition("|")
    return strategy_id, side


def make_etag(world_id: str, key: Key, version: int) -> str:
    return f"act:{world_id}:{key[0]}:{key[1]}:{version}"


def etag_prefix(world_id: str, key: Key) -> str:
    return f"act:{world_id}:{key[0]}:{key[1]}:"


def version_in_etag(world_id: str, key: Key, etag: str) -> int | None:
    """The version an etag of this entry names, or None when it is not one of its etags."""
    prefix = etag_prefix(world_id, key)
    if not etag.startswith(prefix):
        return None
    rest = etag[len(prefix) :]
    return int(rest) if rest.isdigit() else None


def entry_etag(world_id: str, key: Key, entry: Mapping[str, Any]) -> str:
    return make_etag(world_id, key, int(entry["version"]))


def clock() -> dt.datetime:
    """The time activation entries are written and expired by (tests move it)."""
    return timezone.now()


def now_text(moment: dt.datetime | None = None) -> str:
    """Now (or `moment`) as the entries spell time: RFC 3339, whole seconds, `Z`."""
    return rfc3339(moment or clock(), seconds=True)


def expiry_text(ttl_seconds: int, moment: dt.datetime | None = None) -> str:
    """`moment + ttl`, rounded *up* to a whole second: an override never ends early."""
    start = moment or clock()
    end = start + dt.timedelta(seconds=ttl_seconds)
    if end.microsecond:
        end = end.replace(microsecond=0) + dt.timedelta(seconds=1)
    return rfc3339(end, seconds=True)


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def is_expired(entry: Mapping[str, Any], now: str) -> bool:
    """True once `now` (an entry-format time) has reached the entry's `expires_at`.

    Both are fixed-width UTC texts, so comparing the strings compares the times.
    """
    expires_at = entry.get("expires_at")
    return bool(expires_at) and str(expires_at) <= now


def revert_target(entry: Mapping[str, Any], now: str) -> Entry | None:
    """What an expired override reverts to: the first entry down its chain still in force."""
    target = entry.get("previous")
    while target is not None and is_expired(target, now):
        target = target.get("previous")
    return dict(target) if target is not None else None


def _trim_previous(entry: Mapping[str, Any] | None, depth: int) -> Entry | None:
    if entry is None:
        return None
    trimmed = dict(entry)
    if depth >= MAX_PREVIOUS_DEPTH:
        trimmed["previous"] = None
    else:
        trimmed["previous"] = _trim_previous(entry.get("previous"), depth + 1)
    return trimmed


def _check_bool(raw: Mapping[str, Any], name: str, default: bool) -> bool:
    value = raw.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"activation entry field {name!r} must be a boolean")
    return value


def _check_weight(raw: Mapping[str, Any]) -> float:
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise ValueError("activation entry weight must be a number")
    weight = float(weight)
    if not math.isfinite(weight) or not 0.0 <= weight <= 1.0:
        raise ValueError("activation entry weight must be between 0 and 1")
    return weight


def _check_mode(raw: Mapping[str, Any]) -> str | None:
    mode = raw.get("effective_mode")
    if mode is not None and mode not in EFFECTIVE_MODES:
        raise ValueError(f"unknown effective_mode {mode!r}")
    return mode


def _check_run_id(raw: Mapping[str, Any]) -> str | None:
    run_id = raw.get("run_id")
    if run_id is not None and not isinstance(run_id, str):
        raise ValueError("activation entry run_id must be a string or null")
    return run_id


def _check_expires_at(raw: Mapping[str, Any]) -> Any:
    expires_at = raw.get("expires_at")
    if expires_at is not None:
        parse_time(str(expires_at))  # refuses anything but the entry time format
    return expires_at


def normalize(raw: Mapping[str, Any], *, ts: str) -> Entry:
    """The stored form of `raw` (without `version`), written at `ts`.

    Unknown keys (such as `version`, `etag`, `strategy_id` copied from a read) are dropped, so a
    caller may pass back an entry it read. `previous` is kept only with an `expires_at`.
    """
    weight = _check_weight(raw)
    mode = _check_mode(raw)
    run_id = _check_run_id(raw)
    expires_at = _check_expires_at(raw)
    previous = raw.get("previous") if expires_at is not None else None
    return {
        "active": _check_bool(raw, "active", False),
        "weight": weight,
        "freeze": _check_bool(raw, "freeze", False),
        "drain": _check_bool(raw, "drain", False),
        "effective_mode": mode,
        "run_id": run_id,
        "ts": ts,
        "expires_at": expires_at,
        "previous": _trim_previous(previous, 1),
    }


def encode(entry: Mapping[str, Any]) -> str:
    """Compact JSON of a stored entry (without `version`), for the stores."""
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def envelope(world_id: str, key: Key, entry: Mapping[str, Any], state_hash: str | None) -> Entry:
    """The ActivationEnvelope of docs/contract.md#activation."""
    return {
        "world_id": world_id,
        "strategy_id": key[0],
        "side": key[1],
        "active": entry["active"],
        "weight": entry["weight"],
        "freeze": entry["freeze"],
        "drain": entry["drain"],
        "effective_mode": entry["effective_mode"],
        "etag": entry_etag(world_id, key, entry),
        "run_id": entry["run_id"],
        "ts": entry["ts"],
        "expires_at": entry.get("expires_at"),
        "state_hash": state_hash,
    }


def hash_items(world_id: str, entries: Mapping[Key, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The canonical form of a set: one object per entry, sorted by (strategy_id, side)."""
    items = []
    for key in sorted(entries):
        entry = entries[key]
        item: dict[str, Any] = {"strategy_id": key[0], "side": key[1]}
        for name in HASHED_FIELDS:
            item[name] = entry_etag(world_id, key, entry) if name == "etag" else entry.get(name)
        items.append(item)
    return items


def set_hash(world_id: str, entries: Mapping[Key, Mapping[str, Any]]) -> str:
    """`sha256:<hex>` of the canonical JSON of the whole set (see `hash_items`)."""
    return content_hash(hash_items(world_id, entries))


def snapshot_rows(entries: Mapping[Key, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The set as a snapshot stores it: stored entries with their key, sorted."""
    return [
        {"strategy_id": key[0], "side": key[1], **dict(entries[key])} for key in sorted(entries)
    ]


def entries_from_rows(rows: Iterable[Mapping[str, Any]]) -> dict[Key, Entry]:
    result: dict[Key, Entry] = {}
    for row in rows:
        entry = dict(row)
        key = (str(entry.pop("strategy_id")), str(entry.pop("side")))
        result[key] = entry
    return result


def set_body(
    world_id: str, version: int, entries: dict[Key, Entry], state_hash: str
) -> dict[str, Any]:
    """A whole set's body: `{"world_id", "version", "state_hash", "entries"}`, keys sorted."""
    return {
        "world_id": world_id,
        "version": version,
        "state_hash": state_hash,
        "entries": [envelope(world_id, key, entries[key], state_hash) for key in sorted(entries)],
    }
