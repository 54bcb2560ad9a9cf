"""Data-history entries (decide's input, docs/contract.md#inputs-of-decide): their JSON form,
and the copies evaluation runs keep of them.

An entry is replaced in place each time its strategy reports, so a run that must later say which
entry it was evaluated against keeps a copy of it, taken when the run is carried out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from policies.models import HistoryEntry
from worlds.models import World
from worldservice.clock import rfc3339


def history_entry_json(entry: HistoryEntry) -> dict[str, Any]:
    """One entry as `GET /worlds/{id}/history` shows it (and as a run's copy keeps it)."""
    reported = entry.reported_updated_at
    return {
        "strategy_id": entry.strategy_id,
        "node_id": entry.node_id,
        "interval": entry.interval,
        "rows": entry.rows,
        "coverage_bounds": entry.coverage_bounds,
        "conformance_flags": entry.conformance_flags,
        "conformance_warnings": entry.conformance_warnings,
        "dataset_fingerprint": entry.dataset_fingerprint,
        "as_of": rfc3339(entry.as_of),
        "artifact": entry.artifact,
        "execution_domain": entry.execution_domain,
        "reported_updated_at": rfc3339(reported) if reported else None,
        "updated_at": rfc3339(entry.updated_at),
    }


def history_snapshot(
    world: World, strategy_ids: Iterable[str], as_of: dt.datetime
) -> dict[str, dict[str, Any]]:
    """Copies of the entries of `strategy_ids` whose `as_of` is not after `as_of`, by strategy.

    The same no-look-ahead rule as decide: data reported for a later moment was not available
    to an evaluation as of `as_of`. Strategies without such an entry are left out.
    """
    wanted = set(strategy_ids)
    # One query over the world's entries (one per strategy) beats an IN list of every strategy.
    entries = HistoryEntry.objects.filter(world=world, as_of__lte=as_of)
    return {
        entry.strategy_id: history_entry_json(entry)
        for entry in entries.iterator(chunk_size=2000)
        if entry.strategy_id in wanted
    }
