"""Creating, changing and deleting worlds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from worlds import hooks
from worlds.audit import record_audit
from worlds.governance import check_min_approvals, default_approvals, needs_review
from worlds.models import World, WorldChange, WorldState
from worlds.roles import Role
from worlds.services.changes import hold_world_change
from worlds.services.lookup import locked_world
from worlds.services.members import grant_role
from worlds.services.world_writes import (
    EDITABLE_FIELDS,
    announce_world,
    refuse_unknown_fields,
    validate_world,
    world_snapshot,
    write_world_fields,
)
from worldservice.api.errors import Conflict
from worldservice.api.etags import require_match

__all__ = [
    "EDITABLE_FIELDS",
    "WorldUpdate",
    "create_world",
    "delete_world",
    "update_world",
    "world_snapshot",
]


@dataclass(frozen=True, slots=True)
class WorldUpdate:
    """What an update did: `world` as it is now, and `pending` when the update was held instead.

    A held update (it loosened the governance of a world that requires approvals) changed
    nothing on the world: it waits, as `pending`, for approvers other than its requester.
    """

    world: World
    pending: WorldChange | None = None


def create_world(*, actor: User, world_id: str, **fields: Any) -> World:
    """Create a world; its creator becomes its owner.

    `approvals_required` may not be below the deployment's floor (400); when it is not given,
    the world gets the model's default or the floor, whichever is higher.
    """
    world = World(id=world_id, owner=actor, **fields)
    if "approvals_required" not in fields:
        world.approvals_required = default_approvals()
    check_min_approvals(world.approvals_required)
    validate_world(world)
    try:
        with transaction.atomic():
            world.save(force_insert=True)
            grant_role(world=world, user=actor, role=Role.OWNER)
            record_audit(
                event="world_created",
                actor=actor.get_username(),
                world_id=world.id,
                request={"id": world_id, **fields},
                result=world_snapshot(world),
            )
            announce_world(world)
    except IntegrityError as exc:
        raise Conflict(f"A world with id {world_id!r} already exists.", code="duplicate") from exc
    return world


def update_world(
    *,
    actor: User,
    world_id: str,
    changes: Mapping[str, Any],
    expected_etags: set[str] | None = None,
) -> WorldUpdate:
    """Apply `changes` (a subset of EDITABLE_FIELDS) under the world's row lock, or hold them.

    Every path that edits a world (the API's PUT/PATCH, the admin's form) comes here. When the
    world requires approvals and `changes` loosen its governance (see `worlds.governance`), the
    whole request becomes a pending world change and the world is left untouched. `If-Match`
    is checked first either way (412), as is the floor under `approvals_required` (400).
    """
    refuse_unknown_fields(changes)
    with transaction.atomic():
        world = locked_world(world_id)
        require_match(expected_etags or set(), world.etag)
        if "approvals_required" in changes:
            check_min_approvals(changes["approvals_required"], current=world.approvals_required)
        if needs_review(world, changes):
            return WorldUpdate(world, hold_world_change(actor=actor, world=world, changes=changes))
        write_world_fields(actor=actor, world=world, changes=changes, request=changes)
    return WorldUpdate(world)


def delete_world(*, actor: User, world_id: str, expected_etags: set[str] | None = None) -> World:
    """Soft-delete: the world moves to DELETED; its policies, audit and snapshots stay."""
    with transaction.atomic():
        world = locked_world(world_id)
        require_match(expected_etags or set(), world.etag)
        if world.state == WorldState.DELETED:
            return world
        before = world_snapshot(world)
        world.state = WorldState.DELETED
        world.revision += 1
        world.save()
        hooks.notify_world_changed(world.id)
        hooks.world_deleted(actor=actor, world_id=world.id)  # activation gates its entries off
        record_audit(
            event="world_deleted",
            actor=actor.get_username(),
            world_id=world.id,
            result={"before": before, "after": world_snapshot(world)},
        )
        announce_world(world)
    return world
