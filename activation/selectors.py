"""Reads of activation history for the API and the admin: point in time, the console's view,
what was live. They only read.

The current set and its entries are read by `activation.services.reads`, because reading them can
write: an expired override is reverted first, and a set Redis lost is rebuilt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from activation.apply.models import ApplyRun
from activation.entries import Entry, Key, entry_etag, set_body, set_hash
from activation.history import REPLAYED_AUDIT_EVENTS, recorded_state

# TEMPORARY: `activation/api/views.py` (rewritten on another branch) still reads the current set
# here; once merged it imports them from `activation.services.reads` and this line goes, with its
# `ignore_imports` entry in pyproject.toml.
from activation.services.reads import read_entry, read_set  # noqa: E402
from activation.store import SetState
from activation.store.watermark import highest_issued
from policies.models import PolicyApproval, WorldPolicy
from worlds.models import AUDITED_VERSION, WorldAuditLog
from worldservice.clock import rfc3339

__all__ = ["read_entry", "read_set"]


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
        **set_body(world_id, recorded.version, recorded.entries, state_hash),
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


def console_state(world_id: str, state: SetState | None) -> ConsoleState:
    """The world's activation set for the console: each entry with its version, the time of its
    last write and who made it. `state` is the set as `activation.services.reads.ready_set`
    found it (expired overrides reverted); None while the set is being rebuilt."""
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
