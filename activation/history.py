"""The recorded activation history: the latest snapshot, plus the audit rows written after it.

Every activation write records an audit row per changed entry carrying the stored entry and the
version (`activation.services.changes`); snapshots hold whole sets. The set as it stood at any time
is therefore the latest snapshot taken by then, with the later rows (version above the snapshot's,
recorded by then) replayed on top in version order. Rebuilds after a Redis loss use the same
replay with no time limit, so a change whose snapshot failed is not lost either.

A row may also describe several entries written at one `result.version`, either as
`result.changes: [{"strategy_id", "side", "entry"}]` or, as the apply's `apply_stage` rows do,
`result.entries: {"<strategy_id>|<side>": entry | null}`. A replayed entry always takes its row's
version; one without a `ts` of its own write takes the row's time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from activation.entries import Entry, Key, entries_from_rows, normalize, now_text
from activation.models import ActivationSnapshot
from worlds.models import ACTIVATION_WRITE_EVENTS, AUDITED_VERSION, WorldAuditLog

logger = logging.getLogger(__name__)

ACTIVATION_AUDIT_EVENTS = ("activation_updated", "activation_override_expired")
# Rows that may carry activation writes (an apply_stage row does when it has a `version`).
REPLAYED_AUDIT_EVENTS = ACTIVATION_WRITE_EVENTS


@dataclass(frozen=True, slots=True)
class RecordedState:
    world_id: str
    version: int
    entries: dict[Key, Entry]
    snapshot_version: int | None
    replayed: int


def _as_entry(value: Any) -> Entry | None:
    return dict(value) if isinstance(value, Mapping) else None


def _keyed_entries(entries: Mapping[str, Any]) -> Iterator[tuple[Key, Entry | None, bool]]:
    """The apply's form: `{"<strategy_id>|<side>": entry | null}`, timed by the row."""
    for name, entry in entries.items():
        strategy_id, _, side = str(name).rpartition("|")
        yield (strategy_id, side), _as_entry(entry), False


def _listed_changes(changes: list[Any]) -> Iterator[tuple[Key, Entry | None, bool]]:
    """The list form: `[{"strategy_id", "side", "entry"}]`, each entry timed by its own `ts`."""
    for change in changes:
        if isinstance(change, Mapping) and "strategy_id" in change and "side" in change:
            key = (str(change["strategy_id"]), str(change["side"]))
            yield key, _as_entry(change.get("entry")), True


def _row_changes(result: Mapping[str, Any]) -> Iterator[tuple[Key, Entry | None, bool]]:
    """(key, entry, ts_is_own) for each entry the row wrote."""
    entries = result.get("entries")
    if isinstance(entries, Mapping):
        return _keyed_entries(entries)
    changes = result.get("changes")
    if isinstance(changes, list):
        return _listed_changes(changes)
    if "strategy_id" in result and "side" in result and "entry" in result:
        return _listed_changes([result])
    return iter(())


def _latest_snapshot(world_id: str, at: dt.datetime | None) -> ActivationSnapshot | None:
    snapshots = ActivationSnapshot.objects.filter(world_id=world_id)
    if at is not None:
        snapshots = snapshots.filter(created_at__lte=at)
    return snapshots.order_by("-version", "-id").first()


Change = tuple[int, int, Key, Entry | None]
"""(version, audit row id, key, the entry written or None for a removal)."""


def _replayed_entry(
    row_id: int, key: Key, raw: Entry, ts_is_own: bool, version: int, created_at: dt.datetime
) -> Entry | None:
    """The entry as the store held it after the row's write; None when it cannot be read."""
    ts = str(raw["ts"]) if ts_is_own and raw.get("ts") else now_text(created_at)
    try:
        return {"version": version, **normalize(raw, ts=ts)}
    except ValueError:
        logger.warning("audit row %s holds an unreadable entry for %s", row_id, key)
        return None


def _changes_after(world_id: str, base: int, at: dt.datetime | None) -> list[Change]:
    """Every entry write recorded after version `base` (and by `at`), in the order to replay."""
    # The indexed form of `result.version` (worlds.models.AUDITED_VERSION): reads only the
    # world's activation rows after the snapshot.
    rows = WorldAuditLog.objects.alias(written_version=AUDITED_VERSION).filter(
        world_id=world_id, event__in=REPLAYED_AUDIT_EVENTS, written_version__gt=base
    )
    if at is not None:
        rows = rows.filter(created_at__lte=at)
    changes: list[Change] = []
    for row_id, result, created_at in rows.values_list("id", "result", "created_at").iterator(
        chunk_size=500
    ):
        version = int(result["version"])
        for key, raw, ts_is_own in _row_changes(result):
            if raw is None:
                changes.append((version, row_id, key, None))
                continue
            entry = _replayed_entry(row_id, key, raw, ts_is_own, version, created_at)
            if entry is not None:
                changes.append((version, row_id, key, entry))
    changes.sort(key=lambda change: (change[0], change[1]))
    return changes


def _replay(entries: dict[Key, Entry], base: int, changes: list[Change]) -> int:
    """Apply `changes` onto `entries` in place; the version the set reaches."""
    version = base
    for change_version, _, key, entry in changes:
        if entry is None:
            entries.pop(key, None)
        else:
            entries[key] = entry
        version = max(version, change_version)
    return version


def recorded_state(world_id: str, at: dt.datetime | None = None) -> RecordedState:
    """The world's activation set as recorded at `at` (None: everything recorded so far)."""
    snapshot = _latest_snapshot(world_id, at)
    if snapshot is None:
        base, entries, snapshot_version = 0, {}, None
    else:
        base, entries = snapshot.version, entries_from_rows(snapshot.entries)
        snapshot_version = snapshot.version
    changes = _changes_after(world_id, base, at)
    version = _replay(entries, base, changes)
    return RecordedState(world_id, version, entries, snapshot_version, len(changes))
