"""Creating, changing and deleting worlds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from activation.apply.services import abort_for_deleted_world
from activation.services.overrides import deactivate_all
from worlds.audit import record_audit
from worlds.decide_cache import forget_decision
from worlds.events import record_event
from worlds.models import World, WorldState
from worlds.roles import Role
from worlds.services.lookup import locked_world
from worlds.services.members import grant_role
from worldservice.api.errors import Conflict, InvalidInput
from worldservice.api.etags import require_match

EDITABLE_FIELDS = (
    "name",
    "description",
    "labels",
    "state",
    "allow_live",
    "circuit_breaker",
    "approvals_required",
)


def world_snapshot(world: World) -> dict[str, Any]:
    """The world's fields as the audit log and events record them."""
    return {
        "id": world.id,
        "name": world.name,
        "description": world.description,
        "labels": list(world.labels),
        "state": world.state,
        "default_policy_version": world.default_policy_version,
        "allow_live": world.allow_live,
        "circuit_breaker": world.circuit_breaker,
        "approvals_required": world.approvals_required,
    }


def _validate(world: World) -> None:
    try:
        world.full_clean(exclude=["owner"], validate_unique=False)
    except DjangoValidationError as exc:
        raise InvalidInput("The world is not valid.", errors=exc.message_dict) from exc


def _announce(world: World) -> None:
    record_event(
        world_id=world.id,
        type="world_updated",
        data={
            "state": world.state,
            "allow_live": world.allow_live,
            "circuit_breaker": world.circuit_breaker,
        },
    )


def create_world(*, actor: User, world_id: str, **fields: Any) -> World:
    """Create a world; its creator becomes its owner."""
    world = World(id=world_id, owner=actor, **fields)
    _validate(world)
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
            _announce(world)
    except IntegrityError as exc:
        raise Conflict(f"A world with id {world_id!r} already exists.", code="duplicate") from exc
    return world


def update_world(
    *,
    actor: User,
    world_id: str,
    changes: Mapping[str, Any],
    expected_etags: set[str] | None = None,
) -> World:
    """Apply `changes` (a subset of EDITABLE_FIELDS) under the world's row lock."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            "These fields cannot be changed.",
            errors={name: ["This field is read-only."] for name in sorted(unknown)},
        )
    with transaction.atomic():
        world = locked_world(world_id)
        require_match(expected_etags or set(), world.etag)
        before = world_snapshot(world)
        for name, value in changes.items():
            setattr(world, name, value)
        _validate(world)
        after = world_snapshot(world)
        if after == before:
            return world
        world.revision += 1
        world.save()
        forget_decision(world.id)
        changed = {name: after[name] for name in after if after[name] != before[name]}
        record_audit(
            event="world_updated",
            actor=actor.get_username(),
            world_id=world.id,
            request=dict(changes),
            result={"before": before, "after": after, "changed": sorted(changed)},
        )
        if {"state", "allow_live", "circuit_breaker"} & set(changed):
            _announce(world)
    return world


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
        forget_decision(world.id)
        abort_for_deleted_world(actor=actor.get_username(), world_id=world.id)
        deactivate_all(actor=actor, world_id=world.id)
        record_audit(
            event="world_deleted",
            actor=actor.get_username(),
            world_id=world.id,
            result={"before": before, "after": world_snapshot(world)},
        )
        _announce(world)
    return world
