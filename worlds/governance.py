"""The rules of governed world changes: what loosens four-eyes review, and the floor under it.

See docs/api.md ("Governed world changes"). A world whose `approvals_required` is at least 1
cannot have its governance loosened by one person: lowering `approvals_required` or turning
`allow_live` on is held as a pending change until other approvers approve it. Separately, the
deployment's floor `WORLDSERVICE_MIN_APPROVALS` bounds `approvals_required` from below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from worlds.models import World
from worldservice.api.errors import InvalidInput

FLOOR_SETTING = "WORLDSERVICE_MIN_APPROVALS"


def min_approvals() -> int:
    """The deployment's floor under every world's `approvals_required`."""
    return int(settings.WORLDSERVICE.get("MIN_APPROVALS", 0))


def floor_message(floor: int) -> str:
    return (
        f"approvals_required must be at least {floor}: this deployment's floor "
        f"({FLOOR_SETTING}={floor})."
    )


def below_floor(value: int, *, current: int | None = None) -> bool:
    """True when `value` is under the floor and is not the world's current value.

    A world created before the floor was raised keeps its value until someone raises it, so
    editing its other fields (or switching its circuit breaker on) is never blocked.
    """
    return value < min_approvals() and value != current


def check_min_approvals(value: int, *, current: int | None = None) -> None:
    """400 naming the floor when `value` is below it (see `below_floor`)."""
    if below_floor(value, current=current):
        message = floor_message(min_approvals())
        raise InvalidInput(
            message, code="below_min_approvals", errors={"approvals_required": [message]}
        )


def default_approvals() -> int:
    """`approvals_required` of a world created without one: the model's default, or the floor."""
    model_default = World._meta.get_field("approvals_required").get_default()
    return max(int(model_default), min_approvals())


def loosened_fields(world: World, changes: Mapping[str, Any]) -> list[str]:
    """The fields of `changes` that loosen the world's governance, in a stable order."""
    loosened = []
    if "approvals_required" in changes and changes["approvals_required"] < world.approvals_required:
        loosened.append("approvals_required")
    if changes.get("allow_live") is True and not world.allow_live:
        loosened.append("allow_live")
    return loosened


def needs_review(world: World, changes: Mapping[str, Any]) -> bool:
    """A change is held for review when it loosens a world that requires approvals."""
    return world.approvals_required >= 1 and bool(loosened_fields(world, changes))
