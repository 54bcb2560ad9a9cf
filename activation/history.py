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


def _row_changes(result: Mapping[str, Any]) -> Iterator[tuple[Key, Entry | None, bool]]:
    """(key, entry, ts_is_own) for each entry the row wrote."""
    entries = result.get("entries")
    if isinstance(entries, Mapping):
        for name, entry in entries.items():
            strategy_id, _, side = str(name).rpartition("|")
            yield (strategy_id, side), _as_entry(entry), False
        return
    changes = result.get("changes")
    if isinstance(changes, list):
        for change in changes:
            if isinstance(change, Mapping) and "strategy_id" in change and "side" in change:
                key = (str(change["strategy_id"]), str(change["side"]))
                yield key, _as_entry(change.get("entry")), True
        return
    if "strategy_id" in result and "side" in result and "entry" in result:
        key = (str(result["strategy_id"]), str(result["side"]))
        yield key, _as_entry(result["entry"]), True


def recorded_state(world_id: str, at: dt.datetime | None = None) -> RecordedState:
    """The world's activation set as recorded at `at` (None: everything recorded so far)."""
    snapshots = ActivationSnapshot.objects.filter(world_id=world_id)
    if at is not None:
        snapshots = snapshots.filter(created_at__lte=at)
    snapshot = snapshots.order_by("-version", "-id").first()
    base = snapshot.version if snapshot is not None else 0
    entries = entries_from_rows(snapshot.entries) if snapshot is not None else {}

    # The indexed form of `result.version` (worlds.models.AUDITED_VERSION): reads only the
    # world's activation rows after the snapshot.
    rows = WorldAuditLog.objects.alias(written_version=AUDITED_VERSION).filter(
        world_id=world_id, event__in=REPLAYED_AUDIT_EVENTS, written_version__gt=base
    )
    if at is not None:
        rows = rows.filter(created_at__lte=at)
    changes: list[tuple[int, int, Key, Entry | None]] = []
    for row_id, result, created_at in rows.values_list("id", "result", "created_at").iterator(
        chunk_size=500
    ):
        version = int(result["version"])
        for key, raw, ts_is_own in _row_changes(result):
            entry = None
            if raw is not None:
                ts = str(raw["ts"]) if ts_is_own and raw.get("ts") else now_text(created_at)
                try:
                    entry = {"version": version, **normalize(raw, ts=ts)}
                except ValueError:
                    logger.warning("audit row %s holds an unreadable entry for %s", row_id, key)
                    continue
            changes.append((version, row_id, key, entry))
    changes.sort(key=lambda change: (change[0], change[1]))
    version = base
    for change_version, _, key, entry in changes:
        if entry is None:
            entries.pop(key, None)
        else:
            entries[key] = entry
        version = max(version, change_version)
    return RecordedState(
        world_id,
        version,
        entries,
        snapshot.version if snapshot is not None else None,
        len(changes),
    )
