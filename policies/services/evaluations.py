"""Evaluation runs: recording a request, and carrying it out (in a Celery task)."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from policies.dsl import PolicyValidationError, parse_policy, policy_to_dict
from policies.engine import HysteresisState, evaluate
from policies.history_entries import history_snapshot
from policies.models import EvaluatedStrategy, EvaluationRun, EvaluationStatus, HysteresisRecord
from policies.recorded_inputs import (
    hysteresis_state,
    recorded_input,
    recorded_previous,
)
from policies.selectors import default_policy, get_version
from worlds.audit import record_audit
from worlds.models import World
from worlds.selectors import get_world
from worlds.services.lookup import locked_world
from worldservice.api.errors import InvalidInput
from worldservice.canonical import content_hash, json_safe
from worldservice.clock import rfc3339
from worldservice.context import current_correlation_id
from worldservice.idempotency import replay_or_conflict
from worldservice.metrics import world_eval_duration_ms

logger = logging.getLogger(__name__)

INDEX_BATCH = 2000


@dataclass(frozen=True, slots=True)
class EvaluationRequest:
    """A validated evaluate body (docs/contract.md#evaluate)."""

    metrics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    series: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    correlations: Sequence[Mapping[str, Any]] = ()
    previous: Sequence[str] | None = None
    policy_version: int | None = None
    policy: Mapping[str, Any] | None = None
    as_of: dt.datetime | None = None
    stage: str | None = None
    run_id: str | None = None
    simulate: bool = False

    def recorded(self) -> dict[str, Any]:
        """The request as stored on the run (JSON-safe; non-finite numbers become strings,
        which the engine reads as missing, as it would the numbers themselves)."""
        as_of = rfc3339(self.as_of) if self.as_of else None
        recorded: dict[str, Any] = json_safe(
            {
                "metrics": self.metrics,
                "series": self.series,
                "correlations": list(self.correlations),
                "previous": self.previous,
                "policy_version": self.policy_version,
                "policy": self.policy,
                "as_of": as_of,
                "stage": self.stage,
                "simulate": self.simulate,
            }
        )
        return recorded


def _resolve_policy(world: World, request: EvaluationRequest) -> tuple[dict[str, Any], int | None]:
    """The normalised document to evaluate and its version (None for an inline policy)."""
    if request.policy is not None:
        try:
            return policy_to_dict(parse_policy(dict(request.policy))), None
        except PolicyValidationError as exc:
            raise InvalidInput(
                "The inline policy is not valid.",
                code="invalid_policy",
                errors={f"policy.{k}": v for k, v in exc.errors.items()},
            ) from exc
    if request.policy_version is not None:
        version = get_version(world.id, request.policy_version)
        return version.document, version.version
    current = default_policy(world)
    if current is None:
        raise InvalidInput(
            "The world has no default policy; send policy_version or policy.", code="no_policy"
        )
    return current.document, current.version


def request_evaluation(*, actor: User, world_id: str, request: EvaluationRequest) -> EvaluationRun:
    """Record a pending run (idempotent per run_id) for the task to carry out."""
    world = get_world(world_id)
    recorded = request.recorded()
    fingerprint = content_hash(recorded)
    run_id = request.run_id or f"eval-{uuid.uuid4().hex[:16]}"
    existing = EvaluationRun.objects.filter(world=world, run_id=run_id).first()
    if existing is not None:
        return replay_or_conflict(existing, fingerprint, "evaluation")
    document, version = _resolve_policy(world, request)
    advances = (
        not request.simulate
        and request.policy is None
        and version is not None
        and version == world.default_policy_version
    )
    try:
        with transaction.atomic():
            run = EvaluationRun.objects.create(
                world=world,
                run_id=run_id,
                fingerprint=fingerprint,
                request=recorded,
                as_of=request.as_of or timezone.now(),
                stage=request.stage,
                policy_version=version,
                policy_document=document,
                advances_state=advances,
                actor=actor.get_username(),
                correlation_id=current_correlation_id(),
            )
            _index_evaluated(run, recorded["metrics"])
            return run
    except IntegrityError:  # the same run_id raced us in
        return replay_or_conflict(
            EvaluationRun.objects.get(world=world, run_id=run_id), fingerprint, "evaluation"
        )


def _index_evaluated(run: EvaluationRun, strategy_ids: Iterable[str]) -> None:
    """Record that `run` evaluates `strategy_ids`, so each strategy's runs can be listed."""
    EvaluatedStrategy.objects.bulk_create(
        [
            EvaluatedStrategy(run=run, world_id=run.world_id, strategy_id=strategy_id)
            for strategy_id in strategy_ids
        ],
        batch_size=INDEX_BATCH,
        ignore_conflicts=True,
    )


def _save_state(world: World, state: Mapping[str, HysteresisState]) -> None:
    HysteresisRecord.objects.bulk_create(
        [
            HysteresisRecord(world=world, strategy_id=strategy_id, state=value.to_dict())
            for strategy_id, value in state.items()
        ],
        update_conflicts=True,
        unique_fields=["world", "strategy_id"],
        update_fields=["state", "updated_at"],
    )


def carry_out_evaluation(run_pk: int) -> EvaluationRun:
    """Evaluate a pending run; the world's row lock serialises hysteresis updates."""
    started = time.perf_counter()
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().get(pk=run_pk)
        if run.status != EvaluationStatus.PENDING:
            return run
        world = locked_world(run.world_id)
        recorded = run.request
        as_of = run.as_of
        inputs = recorded_input(recorded, as_of=as_of, previous=recorded_previous(world, recorded))
        state = hysteresis_state(world) if run.advances_state else {}
        result = evaluate(
            parse_policy(run.policy_document), inputs, state, advance_state=run.advances_state
        )
        if run.advances_state:
            _save_state(world, result.state)
        # The result also reports previously active strategies that had no metrics this time.
        _index_evaluated(run, [sid for sid in result.strategies if sid not in recorded["metrics"]])
        run.history_snapshot = history_snapshot(world, result.strategies, as_of)
        body = {
            "evaluation_run_id": run.run_id,
            "world_id": world.id,
            "policy_version": run.policy_version,
            **result.to_json(),
        }
        run.result = json_safe(body)
        run.status = EvaluationStatus.COMPLETED
        run.completed_at = timezone.now()
        run.save(update_fields=["result", "history_snapshot", "status", "completed_at"])
        record_audit(
            event="evaluation_recorded",
            actor=run.actor,
            world_id=world.id,
            request={
                "run_id": run.run_id,
                "policy_version": run.policy_version,
                "strategies": len(inputs.strategies),
                "as_of": as_of,
                "simulate": recorded.get("simulate", False),
                "stage": recorded.get("stage"),
            },
            result={
                "active": body["active"],
                "plan": body["plan"],
                "advanced_state": run.advances_state,
            },
        )
    world_eval_duration_ms.observe((time.perf_counter() - started) * 1000)
    return run


def fail_evaluation(run_pk: int, error: str) -> None:
    """Mark a pending run failed; the failure is audited like any evaluation."""
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().filter(pk=run_pk).first()
        if run is None or run.status != EvaluationStatus.PENDING:
            return
        run.status, run.error, run.completed_at = (
            EvaluationStatus.FAILED,
            error[:2000],
            timezone.now(),
        )
        run.save(update_fields=["status", "error", "completed_at"])
        record_audit(
            event="evaluation_recorded",
            actor=run.actor,
            world_id=run.world_id,
            request={"run_id": run.run_id, "policy_version": run.policy_version},
            result={"status": EvaluationStatus.FAILED, "error": run.error},
        )
