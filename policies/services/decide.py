"""Answering decide for a world, from the cache when it is hot.

When the database cannot be read, decide answers from the cache if it holds a fresh envelope
(no change can commit while the database is down, so it is still true), and otherwise with the
safe answer: `compute-only`, reason `database_unavailable`, a 5 s ttl. Never a stale `live`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from policies.decide_cache import cached_decision, decision_token, remember_decision
from policies.decision_ladder import (
    DecideInputs,
    HistoryFacts,
    envelope,
    run_ladder,
    safe_envelope,
)
from policies.dsl import parse_policy
from policies.models import DecisionMemory, HistoryEntry, StrategyBinding, WorldDecisions
from policies.selectors import default_policy
from worlds.models import World
from worlds.selectors import get_world
from worldservice.metrics import world_decide_fail_total

logger = logging.getLogger(__name__)


def _history(world: World, moment: dt.datetime | None) -> HistoryFacts | None:
    entries = HistoryEntry.objects.filter(world=world)
    if moment is not None:
        entries = entries.filter(as_of__lte=moment)  # no look-ahead
    entry = entries.order_by("-as_of", "-updated_at").first()
    if entry is None:
        return None
    return HistoryFacts(
        as_of=entry.as_of,
        dataset_fingerprint=entry.dataset_fingerprint,
        coverage_bounds=entry.coverage_bounds,
        conformance_flags=entry.conformance_flags,
        conformance_warnings=entry.conformance_warnings,
        rows=entry.rows,
        artifact=entry.artifact,
        updated_at=entry.updated_at,
    )


def _inputs(world: World, requested_as_of: dt.datetime | None, now: dt.datetime) -> DecideInputs:
    policy = default_policy(world)
    max_lag = parse_policy(policy.document).data_currency.max_lag_seconds if policy else None
    decided: list[str] = (
        WorldDecisions.objects.filter(world=world).values_list("strategies", flat=True).first()
        or []
    )
    bound = StrategyBinding.objects.filter(world=world).values_list("strategy_id", flat=True)
    memory = DecisionMemory.objects.filter(world=world).first()
    return DecideInputs(
        world_id=world.id,
        state=world.state,
        circuit_breaker=world.circuit_breaker,
        allow_live=world.allow_live,
        policy_version=world.default_policy_version or 0,
        max_lag_seconds=max_lag,
        bindings=tuple(sorted(bound)),
        decisions=tuple(decided),
        history=_history(world, requested_as_of or now),
        requested_as_of=requested_as_of,
        now=now,
        previous_mode=memory.effective_mode if memory else None,
        previous_fingerprint=memory.dataset_fingerprint if memory else None,
    )


def _remember(world: World, mode: str, fingerprint: str | None, now: dt.datetime) -> None:
    """Persist the decision so every worker agrees on `hysteresis_hold`."""
    with transaction.atomic():
        memory = DecisionMemory.objects.select_for_update().filter(world=world).first()
        if memory is None:
            DecisionMemory.objects.create(
                world=world, effective_mode=mode, dataset_fingerprint=fingerprint, decided_at=now
            )
        elif (memory.effective_mode, memory.dataset_fingerprint) != (mode, fingerprint):
            memory.effective_mode, memory.dataset_fingerprint = mode, fingerprint
            memory.decided_at = now
            memory.save()


def decide(world_id: str, requested_as_of: dt.datetime | None = None) -> dict[str, Any]:
    """The DecisionEnvelope for the world now, or as of a past moment (never cached).

    With the database down: the cached envelope if fresh, else `safe_envelope` (see above).
    """
    if requested_as_of is None:
        hot = cached_decision(world_id)
        if hot is not None:
            return dict(hot)
    token = decision_token(world_id) if requested_as_of is None else None
    now = timezone.now()
    try:
        return _decide(world_id, requested_as_of, now, token)
    except (OperationalError, InterfaceError) as exc:
        logger.warning("decide for %s answers the safe default: %s", world_id, exc)
        world_decide_fail_total.inc()
        return safe_envelope(world_id, requested_as_of or now)


def _decide(
    world_id: str, requested_as_of: dt.datetime | None, now: dt.datetime, token: str | None
) -> dict[str, Any]:
    world = get_world(world_id)
    inputs = _inputs(world, requested_as_of, now)
    decision = run_ladder(inputs)
    body = envelope(inputs, decision)
    if requested_as_of is None:
        _remember(world, decision.effective_mode, body["dataset_fingerprint"], now)
        fresh_for = (decision.stale_at - now).total_seconds() if decision.stale_at else 1e9
        remember_decision(world_id, body, fresh_for, token)
    return body
