"""Governed world changes: hold a change that loosens a world's governance, review it, apply it.

The rules are in docs/api.md ("Governed world changes"). Every function here runs under the
world's row lock, which serialises a change's reviews with each other and with ordinary updates,
so a change is decided once and is applied onto the world as it is at that moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from worlds.audit import record_audit
from worlds.four_eyes import require_reviewer
from worlds.governance import check_min_approvals
from worlds.models import (
    ReviewDecision,
    World,
    WorldChange,
    WorldChangeApproval,
    WorldChangeStatus,
)
from worlds.services.lookup import locked_world
from worlds.services.world_writes import differences, world_snapshot, write_world_fields
from worldservice.api.errors import Conflict, Forbidden, InvalidInput, NotFound

REVIEW_EVENTS = {
    ReviewDecision.APPROVE: "world_change_approved",
    ReviewDecision.REJECT: "world_change_rejected",
}


def hold_world_change(*, actor: User, world: World, changes: Mapping[str, Any]) -> WorldChange:
    """Store `changes` as a pending change of the locked `world`; the world itself stays as it is.

    Only the fields whose value would change are kept, with their current values beside them.
    The number of approvals it needs is the world's `approvals_required` now.
    """
    proposed = differences(world, changes)
    current = world_snapshot(world)
    change = WorldChange.objects.create(
        world=world,
        changes=proposed,
        previous={name: current[name] for name in proposed},
        requested_by=actor,
        requested_at=timezone.now(),
        approvals_required=world.approvals_required,
    )
    record_audit(
        event="world_change_requested",
        actor=actor.get_username(),
        world_id=world.id,
        request=dict(changes),
        result={
            "change_id": change.id,
            "changes": change.changes,
            "previous": change.previous,
            "approvals_required": change.approvals_required,
            "status": WorldChangeStatus.PENDING.value,
        },
    )
    return change


def _change_of(world: World, change_id: int) -> WorldChange:
    # No row lock of its own: every write to a change first locks its world.
    change = WorldChange.objects.filter(world=world, pk=change_id).first()
    if change is None:
        raise NotFound(f"World {world.id!r} has no change {change_id}.")
    return change


def _require_pending(change: WorldChange) -> None:
    if change.status != WorldChangeStatus.PENDING:
        raise Conflict(
            f"Change {change.id} is {change.status}, no longer PENDING.", code="not_pending"
        )


def _finish(change: WorldChange, status: WorldChangeStatus) -> None:
    change.status = status
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_at"])


def _apply(*, actor: User, world: World, change: WorldChange) -> None:
    """Write the change onto the world as it is now; 409 if that is no longer valid."""
    try:
        if "approvals_required" in change.changes:
            check_min_approvals(
                change.changes["approvals_required"], current=world.approvals_required
            )
        write_world_fields(
            actor=actor,
            world=world,
            changes=change.changes,
            request={"change_id": change.id, "requested_by": change.requested_by.get_username()},
            change_id=change.id,
        )
    except InvalidInput as exc:
        raise Conflict(
            f"Change {change.id} can no longer be applied: {exc.detail}",
            code="change_not_applicable",
            errors=exc.errors,
        ) from exc
    _finish(change, WorldChangeStatus.APPLIED)


def _outcome(decision: ReviewDecision, approvals: int, required: int) -> WorldChangeStatus:
    if decision == ReviewDecision.REJECT:
        return WorldChangeStatus.REJECTED
    if approvals >= required:
        return WorldChangeStatus.APPLIED
    return WorldChangeStatus.PENDING


def review_world_change(
    *,
    actor: User,
    world_id: str,
    change_id: int,
    decision: ReviewDecision,
    comment: str = "",
) -> WorldChange:
    """Record `actor`'s approval or rejection of a pending change, and decide it when it can be.

    The same rules as for policy versions: approvers only, never the requester (403
    `self_approval`, superusers included), one decision per reviewer (409 `already_reviewed`).
    A rejection ends the change; the approval that reaches the number the change needs applies it
    in this transaction.
    """
    with transaction.atomic():
        world = locked_world(world_id)
        change = _change_of(world, change_id)
        require_reviewer(
            actor,
            world.id,
            author_id=change.requested_by_id,
            subject="world changes",
            authored="requested this change",
        )
        _require_pending(change)
        try:
            with transaction.atomic():
                WorldChangeApproval.objects.create(
                    change=change, user=actor, decision=decision, comment=comment
                )
        except IntegrityError as exc:
            raise Conflict(
                f"You already reviewed change {change.id}.", code="already_reviewed"
            ) from exc
        decision = ReviewDecision(decision)
        approvals = change.approvals.filter(decision=ReviewDecision.APPROVE).count()
        outcome = _outcome(decision, approvals, change.approvals_required)
        record_audit(
            event=REVIEW_EVENTS[decision],
            actor=actor.get_username(),
            world_id=world.id,
            request={"change_id": change.id, "comment": comment},
            result={
                "decision": decision.value,
                "approvals": approvals,
                "approvals_required": change.approvals_required,
                "status": outcome.value,
            },
        )
        if outcome == WorldChangeStatus.APPLIED:
            _apply(actor=actor, world=world, change=change)
        elif outcome == WorldChangeStatus.REJECTED:
            _finish(change, outcome)
    return change


def withdraw_world_change(*, actor: User, world_id: str, change_id: int) -> WorldChange:
    """The requester ends their own pending change (WITHDRAWN); anyone else gets 403."""
    with transaction.atomic():
        world = locked_world(world_id)
        change = _change_of(world, change_id)
        if change.requested_by_id != actor.pk:
            raise Forbidden(
                f"Only {change.requested_by.get_username()!r}, who requested change "
                f"{change.id}, may withdraw it.",
                code="not_requester",
            )
        _require_pending(change)
        _finish(change, WorldChangeStatus.WITHDRAWN)
        record_audit(
            event="world_change_withdrawn",
            actor=actor.get_username(),
            world_id=world.id,
            request={"change_id": change.id},
            result={"status": WorldChangeStatus.WITHDRAWN.value},
        )
    return change
