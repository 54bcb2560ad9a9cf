"""Writing the inputs of decide: bindings, decisions and history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from policies.decide_cache import forget_decision
from policies.models import HistoryEntry, StrategyBinding, WorldDecisions
from worlds.audit import record_audit
from worlds.services.lookup import locked_world
from worldservice.api.errors import InvalidInput
from worldservice.limits import MAX_STRATEGIES


def add_bindings(*, actor: User, world_id: str, strategies: Sequence[str]) -> list[str]:
    """Bind strategies to the world; returns the whole bound set, sorted."""
    with transaction.atomic():
        world = locked_world(world_id)
        existing = set(
            StrategyBinding.objects.filter(world=world).values_list("strategy_id", flat=True)
        )
        added = sorted(set(strategies) - existing)
        if len(existing) + len(added) > MAX_STRATEGIES:
            raise InvalidInput(
                f"World {world_id!r} may bind at most {MAX_STRATEGIES} strategies.",
                errors={
                    "strategies": [
                        f"{len(existing)} are bound; {len(added)} more would pass the limit."
                    ]
                },
            )
        StrategyBinding.objects.bulk_create(
            StrategyBinding(world=world, strategy_id=strategy_id) for strategy_id in added
        )
        bound = sorted(existing | set(added))
        if added:
            record_audit(
                event="bindings_added",
                actor=actor.get_username(),
                world_id=world.id,
                request={"strategies": list(strategies)},
                result={"added": added, "strategies": bound},
            )
            forget_decision(world.id)
    return bound


def set_decisions(*, actor: User, world_id: str, strategies: Sequence[str]) -> list[str]:
    """Replace the world's decided strategies (callers pass them trimmed and de-duplicated)."""
    with transaction.atomic():
        world = locked_world(world_id)
        current = WorldDecisions.objects.filter(world=world).first()
        before = list(current.strategies) if current else []
        WorldDecisions.objects.update_or_create(
            world=world, defaults={"strategies": list(strategies)}
        )
        record_audit(
            event="decisions_set",
            actor=actor.get_username(),
            world_id=world.id,
            request={"strategies": list(strategies)},
            result={"before": before, "after": list(strategies)},
        )
        forget_decision(world.id)
    return list(strategies)


@dataclass(frozen=True, slots=True)
class HistoryUpdate:
    strategy_id: str
    node_id: str
    interval: Any
    rows: int | None = None
    coverage_bounds: Any = None
    conformance_flags: Any = None
    conformance_warnings: Any = None
    dataset_fingerprint: str | None = None
    as_of: dt.datetime | None = None
    artifact: Any = None
    reported_updated_at: dt.datetime | None = None
    execution_domain: str | None = None


def _check_history_room(world_id: str, strategy_id: str) -> None:
    """A new strategy's entry must fit under the bound on entries per world."""
    entries = HistoryEntry.objects.filter(world_id=world_id)
    if entries.filter(strategy_id=strategy_id).exists():
        return
    if entries.count() >= MAX_STRATEGIES:
        raise InvalidInput(
            f"World {world_id!r} holds history for at most {MAX_STRATEGIES} strategies.",
            errors={"strategy_id": ["A new strategy's entry would pass the limit."]},
        )


def upsert_history(*, actor: User, world_id: str, update: HistoryUpdate) -> HistoryEntry:
    """Record the strategy's latest data history (one entry per strategy, replaced in place)."""
    fields = asdict(update)
    strategy_id = fields.pop("strategy_id")
    fields["as_of"] = fields["as_of"] or timezone.now()
    with transaction.atomic():
        world = locked_world(world_id)
        _check_history_room(world_id, strategy_id)
        entry, created = HistoryEntry.objects.update_or_create(
            world=world, strategy_id=strategy_id, defaults=fields
        )
        record_audit(
            event="history_upserted",
            actor=actor.get_username(),
            world_id=world.id,
            request={"strategy_id": strategy_id, **fields},
            result={"created": created, "as_of": entry.as_of},
        )
        forget_decision(world.id)
    return entry
