"""What deleting a world does to its activation (registered with `worlds.hooks`)."""

from __future__ import annotations

from django.contrib.auth.models import User

from activation.apply.services import abort_for_deleted_world
from activation.services.overrides import deactivate_all


def end_world_activation(*, actor: User, world_id: str) -> None:
    """End the world's unfinished applies, then gate every entry off for good.

    Runs inside `delete_world`'s transaction, under the world row lock: the aborts come first so
    that no apply stage writes after the entries are gated off.
    """
    abort_for_deleted_world(actor=actor.get_username(), world_id=world_id)
    deactivate_all(actor=actor, world_id=world_id)
