"""The one place a world's editable fields are written: validated, audited and announced.

Both an ordinary update and the application of an approved world change end here, inside their
caller's transaction and under the world's row lock, so they write the same audit row and event.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError

from worlds.audit import record_audit
from worlds.events import record_event
from worlds.hooks import notify_world_changed
from worlds.models import World
from worldservice.api.errors import InvalidInput

EDITABLE_FIELDS = (
    "name",
    "description",
    "labels",
    "state",
    "allow_live",
    "circuit_breaker",
    "approvals_required",
)
# Consumers of `world_updated` events care about these (docs/contract.md#events).
ANNOUNCED_FIELDS = frozenset({"state", "allow_live", "circuit_breaker"})


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


def validate_world(world: World) -> None:
    """400 with per-field errors unless the (unsaved) world is valid."""
    try:
        world.full_clean(exclude=["owner"], validate_unique=False)
    except DjangoValidationError as exc:
        raise InvalidInput("The world is not valid.", errors=exc.message_dict) from exc


def refuse_unknown_fields(changes: Mapping[str, Any]) -> None:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            "These fields cannot be changed.",
            errors={name: ["This field is read-only."] for name in sorted(unknown)},
        )


def differences(world: World, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of `changes` that would change the world, after validating the result."""
    proposed = copy.copy(world)
    for name, value in changes.items():
        setattr(proposed, name, value)
    validate_world(proposed)
    before, after = world_snapshot(world), world_snapshot(proposed)
    return {name: after[name] for name in changes if after[name] != before[name]}


def announce_world(world: World) -> None:
    record_event(
        world_id=world.id,
        type="world_updated",
        data={
            "state": world.state,
            "allow_live": world.allow_live,
            "circuit_breaker": world.circuit_breaker,
        },
    )


def write_world_fields(
    *,
    actor: User,
    world: World,
    changes: Mapping[str, Any],
    request: Mapping[str, Any],
    change_id: int | None = None,
) -> list[str]:
    """Set `changes` on the locked `world`, save it, and record `world_updated`.

    `change_id` names the approved world change being applied: its audit row says so and a
    `world_updated` event is always sent. Returns the names of the fields that changed (none
    when the world already had these values: then nothing is written).
    """
    before = world_snapshot(world)
    for name, value in changes.items():
        setattr(world, name, value)
    validate_world(world)
    after = world_snapshot(world)
    changed = sorted(name for name in after if after[name] != before[name])
    if not changed:
        return changed
    world.revision += 1
    world.save()
    notify_world_changed(world.id)
    result: dict[str, Any] = {"before": before, "after": after, "changed": changed}
    if change_id is not None:
        result["change_id"] = change_id
    record_audit(
        event="world_updated",
        actor=actor.get_username(),
        world_id=world.id,
        request=dict(request),
        result=result,
    )
    if change_id is not None or ANNOUNCED_FIELDS & set(changed):
        announce_world(world)
    return changed
