"""The real allocation storage: the Django models, the audit log and recorded runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from rebalancing.allocation.plan import AllocationExecutionPlan
from rebalancing.allocation.ports import StorageConflict
from rebalancing.models import RebalanceKind, RebalanceRun, WorldAllocation
from worlds.audit import record_audit
from worldservice.idempotency import replay_or_conflict
from worldservice.locks import lock_for_transaction


def replayed_run(kind: str, run_id: str | None, fingerprint: str) -> dict[str, Any] | None:
    """The stored answer of a run, None without a run_id or before its first use."""
    if run_id is None:
        return None
    run = RebalanceRun.objects.filter(kind=kind, run_id=run_id).first()
    if run is None:
        return None
    response: dict[str, Any] = replay_or_conflict(run, fingerprint, "request").response
    return response


def record_run(
    kind: str, run_id: str | None, fingerprint: str, response: Mapping[str, Any], actor: User | str
) -> None:
    """Remember a run's answer under its run_id (nothing without one)."""
    if run_id is None:
        return
    RebalanceRun.objects.create(
        kind=kind,
        run_id=run_id,
        fingerprint=fingerprint,
        response=dict(response),
        actor=actor if isinstance(actor, str) else actor.get_username(),
    )


@contextmanager
def _conflict_as_storage_conflict(plan: AllocationExecutionPlan) -> Iterator[None]:
    try:
        yield
    except IntegrityError as exc:
        raise StorageConflict(plan) from exc


class DjangoAuditTrail:
    """Audit rows in the hash-chained audit log (docs/architecture.md)."""

    def record_audit(
        self,
        *,
        event: str,
        actor: str,
        world_id: str,
        request: Mapping[str, Any],
        result: Mapping[str, Any],
    ) -> None:
        record_audit(event=event, actor=actor, world_id=world_id, request=request, result=result)


class DjangoAllocationStorage(DjangoAuditTrail):
    def atomic(self) -> transaction.Atomic:
        return transaction.atomic()

    def lock_worlds(self, world_ids: Sequence[str]) -> None:
        # Sorted, so two requests naming the same worlds cannot wait on each other in a circle.
        for world_id in sorted(world_ids):
            lock_for_transaction(f"allocation:{world_id}")

    def recorded_allocations(self, world_ids: Sequence[str]) -> dict[str, float]:
        rows = WorldAllocation.objects.filter(world_id__in=world_ids)
        return {row.world_id: row.allocation for row in rows}

    def replayed(self, run_id: str, fingerprint: str) -> dict[str, Any] | None:
        return replayed_run(RebalanceKind.ALLOCATION, run_id, fingerprint)

    def save_allocation(self, plan: AllocationExecutionPlan, world_id: str, share: Any) -> None:
        totals = plan.request.strategy_alloc_after_total or {}
        with _conflict_as_storage_conflict(plan):
            WorldAllocation.objects.update_or_create(
                world_id=world_id,
                defaults={
                    "allocation": share,
                    "run_id": plan.run_id,
                    "etag": plan.etag,
                    "strategy_alloc_total": totals.get(world_id),
                },
            )

    def record_run(self, plan: AllocationExecutionPlan) -> None:
        with _conflict_as_storage_conflict(plan):
            record_run(
                RebalanceKind.ALLOCATION,
                plan.run_id,
                plan.context.fingerprint,
                plan.response(),
                plan.actor,
            )
