"""The database activation store (the embedded default: used when `REDIS_URL` is empty).

Entries are `ActivationRow`s; the world's `ActivationCounter` row is the version counter. A write
locks the counter row (`select_for_update`) for its transaction, so writes of one world are
serialised and each bumps the version exactly once. The database never loses the counter, so this
store is always ready.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from activation.entries import Entry, Key, make_etag, normalize, now_text, parse_time, set_hash
from activation.models import ActivationCounter, ActivationRow
from activation.store.base import (
    ActivationStore,
    Changes,
    EntryRead,
    EtagMismatch,
    Expected,
    HashState,
    SetState,
    WriteOutcome,
    check_expected,
)
from activation.store.watermark import locked_counter

CONSISTENT_READ_ATTEMPTS = 5


def _entry(data: Mapping[str, Any], version: int) -> Entry:
    return {"version": int(version), **data}


def _rows_of(world_id: str) -> dict[Key, Entry]:
    rows = ActivationRow.objects.filter(world_id=world_id).values_list(
        "strategy_id", "side", "data", "version"
    )
    return {(strategy, side): _entry(data, version) for strategy, side, data, version in rows}


def _counter_of(world_id: str) -> tuple[int, str]:
    found = (
        ActivationCounter.objects.filter(world_id=world_id)
        .values_list("version", "state_hash")
        .first()
    )
    return (int(found[0]), found[1]) if found else (0, "")


def _keys_filter(keys: list[Key]) -> Q:
    condition = Q(pk__in=[])
    for strategy_id, side in keys:
        condition |= Q(strategy_id=strategy_id, side=side)
    return condition


def _stored_rows(world_id: str, keys: list[Key]) -> dict[Key, ActivationRow]:
    rows = ActivationRow.objects.filter(world_id=world_id).filter(_keys_filter(keys))
    return {(row.strategy_id, row.side): row for row in rows}


def _check_etags(
    world_id: str, before: Mapping[Key, Entry | None], expected: Expected | None
) -> None:
    """The compare of compare-and-set: each expected etag (None: absent) must be current."""
    for key, wanted in (expected or {}).items():
        current = before[key]
        current_etag = make_etag(world_id, key, current["version"]) if current else None
        if current_etag != wanted:
            raise EtagMismatch(world_id, key, current_etag)


def _write_row(
    world_id: str, key: Key, entry: Entry | None, version: int, row: ActivationRow | None
) -> None:
    """Store one entry at `version` (None removes it)."""
    if entry is None:
        if row is not None:
            row.delete()
        return
    expires_at = entry["expires_at"]
    ActivationRow.objects.update_or_create(
        world_id=world_id,
        strategy_id=key[0],
        side=key[1],
        defaults={
            "data": entry,
            "version": version,
            "expires_at": parse_time(expires_at) if expires_at else None,
        },
    )


class DatabaseActivationStore(ActivationStore):
    name = "database"
    transactional = True

    # -- reads ---------------------------------------------------------------------------------

    def get(self, world_id: str, strategy_id: str, side: str) -> EntryRead:
        row = ActivationRow.objects.filter(
            world_id=OuterRef("world_id"), strategy_id=strategy_id, side=side
        )
        # One statement, so the entry and the version are of the same moment.
        found = (
            ActivationCounter.objects.filter(world_id=world_id)
            .annotate(
                entry_data=Subquery(row.values("data")[:1]),
                entry_version=Subquery(row.values("version")[:1]),
            )
            .values_list("version", "state_hash", "entry_data", "entry_version")
            .first()
        )
        if found is None:
            return EntryRead(None, 0, set_hash(world_id, {}))
        version, state_hash, data, entry_version = found
        entry = _entry(data, entry_version) if data is not None else None
        return EntryRead(entry, int(version), state_hash or None)

    def get_all(self, world_id: str) -> SetState:
        # Lock-free: a writer bumps the counter in the transaction that changes the rows, so an
        # unchanged counter around the row read means the rows are of that version.
        for _ in range(CONSISTENT_READ_ATTEMPTS):
            version, state_hash = _counter_of(world_id)
            entries = _rows_of(world_id)
            if _counter_of(world_id)[0] == version:
                return SetState(
                    world_id, version, entries, state_hash or set_hash(world_id, entries)
                )
        with transaction.atomic():
            counter = locked_counter(world_id)
            entries = _rows_of(world_id)
            return SetState(
                world_id,
                counter.version,
                entries,
                counter.state_hash or set_hash(world_id, entries),
            )

    def hash_state(self, world_id: str) -> HashState:
        version, state_hash = _counter_of(world_id)
        if state_hash:
            return HashState(state_hash, version)
        state = self.get_all(world_id)
        return HashState(state.state_hash, state.version)

    def is_ready(self, world_id: str) -> bool:
        return True

    def due_expiries(self, now: str, limit: int = 1000) -> list[tuple[str, Key]]:
        rows = (
            ActivationRow.objects.filter(expires_at__lte=parse_time(now))
            .order_by("expires_at", "id")
            .values_list("world_id", "strategy_id", "side")[:limit]
        )
        return [(world_id, (strategy_id, side)) for world_id, strategy_id, side in rows]

    # -- writes --------------------------------------------------------------------------------

    def initialize(self, world_id: str) -> None:
        """Nothing to do: a world without a counter row is at version 0."""

    def apply_changes(
        self, world_id: str, changes: Changes, *, expected: Expected | None = None
    ) -> WriteOutcome:
        check_expected(changes, expected)
        ts = now_text()
        keys = sorted(changes)
        normalised = {
            key: (normalize(raw, ts=ts) if raw is not None else None)
            for key, raw in changes.items()
        }
        with transaction.atomic():
            counter = locked_counter(world_id)
            rows = _stored_rows(world_id, keys)
            before = {
                key: (_entry(rows[key].data, rows[key].version) if key in rows else None)
                for key in keys
            }
            _check_etags(world_id, before, expected)
            version = counter.version + 1
            for key in keys:
                _write_row(world_id, key, normalised[key], version, rows.get(key))
            entries = _rows_of(world_id)
            state_hash = set_hash(world_id, entries)
            counter.version = version
            counter.state_hash = state_hash
            counter.save(update_fields=["version", "state_hash", "updated_at"])
        after = {key: entries.get(key) for key in keys}
        return WriteOutcome(world_id, version, before, after, entries, state_hash)

    def replace_all(
        self, world_id: str, entries: Mapping[Key, Mapping[str, object]], *, min_version: int
    ) -> WriteOutcome:
        ts = now_text()
        with transaction.atomic():
            counter = locked_counter(world_id)
            before_all = _rows_of(world_id)
            version = max(min_version, counter.version + 1)
            ActivationRow.objects.filter(world_id=world_id).delete()
            rows = []
            for key in sorted(entries):
                entry = normalize(entries[key], ts=ts)
                expires_at = entry["expires_at"]
                rows.append(
                    ActivationRow(
                        world_id=world_id,
                        strategy_id=key[0],
                        side=key[1],
                        data=entry,
                        version=version,
                        expires_at=parse_time(expires_at) if expires_at else None,
                    )
                )
            ActivationRow.objects.bulk_create(rows)
            after_all = _rows_of(world_id)
            state_hash = set_hash(world_id, after_all)
            counter.version = version
            counter.state_hash = state_hash
            counter.save(update_fields=["version", "state_hash", "updated_at"])
        return WriteOutcome.between(world_id, version, before_all, after_all, state_hash)
