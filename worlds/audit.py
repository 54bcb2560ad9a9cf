"""The one way an audit row is written, and the check of its hash chain.

Services call `record_audit` inside their own transaction, so a change and its audit row commit or
roll back together. Rows of one world form a hash chain: each row's hash covers its content and the
hash of the world's previous row, so an edit made behind the database trigger's back is found.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from worlds.models import WorldAuditLog
from worldservice.canonical import canonical_json, json_safe, sha256_hex
from worldservice.clock import rfc3339
from worldservice.context import current_correlation_id
from worldservice.locks import lock_for_transaction

AUDIT_EVENTS = frozenset(
    {
        "world_created",
        "world_updated",
        "world_deleted",
        "world_change_requested",
        "world_change_approved",
        "world_change_rejected",
        "world_change_withdrawn",
        "member_changed",
        "policy_added",
        "policy_approved",
        "policy_rejected",
        "policy_default_set",
        "bindings_added",
        "decisions_set",
        "history_upserted",
        "activation_updated",
        "activation_override_expired",
        "evaluation_recorded",
        "apply_stage",
        "allocation_upserted",
        "rebalancing_planned",
        "token_issued",
        "token_revoked",
        "login_locked_out",
    }
)


def row_hash(
    *,
    world_id: str,
    actor: str,
    event: str,
    request: Any,
    result: Any,
    created_at: str,
    correlation_id: str,
    prev_hash: str,
) -> str:
    payload = {
        "world_id": world_id,
        "actor": actor,
        "event": event,
        "request": request,
        "result": result,
        "created_at": created_at,
        "correlation_id": correlation_id,
        "prev_hash": prev_hash,
    }
    return "sha256:" + sha256_hex(canonical_json(payload))


def hash_of_row(row: WorldAuditLog) -> str:
    """The chain hash of a row as it stands (its `prev_hash` included)."""
    return row_hash(
        world_id=row.world_id,
        actor=row.actor,
        event=row.event,
        request=row.request,
        result=row.result,
        created_at=rfc3339(row.created_at),
        correlation_id=row.correlation_id,
        prev_hash=row.prev_hash,
    )


@dataclass(frozen=True, slots=True)
class AuditItem:
    """One audit row to append (for `record_audits`)."""

    event: str
    actor: str
    request: Mapping[str, Any] | None = None
    result: Mapping[str, Any] | None = None


def record_audit(
    *,
    event: str,
    actor: str,
    world_id: str = "",
    request: Mapping[str, Any] | None = None,
    result: Mapping[str, Any] | None = None,
) -> WorldAuditLog:
    """Append one audit row for `world_id` (blank for service-wide events such as tokens)."""
    return record_audits(world_id=world_id, items=[AuditItem(event, actor, request, result)])[0]


def record_audits(*, world_id: str, items: Sequence[AuditItem]) -> list[WorldAuditLog]:
    """Append rows for `world_id` in order, chained to each other, in one insert.

    A large apply writes thousands of rows; chaining them in memory under one lock keeps that
    to three queries.
    """
    unknown = {item.event for item in items} - AUDIT_EVENTS
    if unknown:
        raise ValueError(f"unknown audit event(s) {sorted(unknown)!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_audit must run inside the transaction of the change")
    lock_for_transaction(f"audit:{world_id}")
    previous = (
        WorldAuditLog.objects.filter(world_id=world_id)
        .order_by("-id")
        .values_list("hash", flat=True)
        .first()
    ) or ""
    # Microseconds survive both PostgreSQL and SQLite, so the hash can be recomputed later.
    created_at = timezone.now()
    correlation_id = current_correlation_id()
    rows = []
    for item in items:
        row = WorldAuditLog(
            world_id=world_id,
            actor=item.actor,
            event=item.event,
            request=json_safe(dict(item.request or {})),
            result=json_safe(dict(item.result or {})),
            created_at=created_at,
            correlation_id=correlation_id,
            prev_hash=previous,
        )
        row.hash = hash_of_row(row)
        previous = row.hash
        rows.append(row)
    return WorldAuditLog.objects.bulk_create(rows)


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": self.ok, "checked": self.checked}
        if not self.ok:
            body["broken"] = {"id": self.broken_id, "reason": self.reason}
        return body


def verify_chain(rows: Iterable[WorldAuditLog]) -> ChainReport:
    """Walk rows in id order and recompute every hash and link; stop at the first break."""
    last_hash_by_world: dict[str, str] = {}
    checked = 0
    for row in rows:
        problem = row_chain_problem(row, last_hash_by_world.get(row.world_id, ""))
        if problem:
            return ChainReport(False, checked, row.id, problem)
        last_hash_by_world[row.world_id] = row.hash
        checked += 1
    return ChainReport(True, checked)


VERIFY_CHUNK_ROWS = 1000


def verify_world_chain(world_id: str | None) -> ChainReport:
    """Verify the chain of one world (`""`: the service-wide rows), or of every world (None)."""
    rows = WorldAuditLog.objects.order_by("id")
    if world_id is not None:
        rows = rows.filter(world_id=world_id)
    return verify_chain(rows.iterator(chunk_size=VERIFY_CHUNK_ROWS))


def row_chain_problem(row: WorldAuditLog, previous_hash: str) -> str:
    """Why one row breaks its world's chain ("" if it does not), given the hash of the world's
    row before it ("" for the first). The same two checks as `verify_chain`, for one row."""
    if row.prev_hash != previous_hash:
        return "prev_hash does not match the previous row"
    if hash_of_row(row) != row.hash:
        return "content does not match its hash"
    return ""
