"""Setting a world's default policy version, which is also how a rollback is done."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from policies.models import WorldPolicy
from policies.selectors import approval_state, get_version
from policies.services.activation import activate_version
from worlds.models import World
from worlds.services.lookup import locked_world
from worldservice.api.errors import Conflict
from worldservice.api.etags import require_match


def approval_refusal(*, world: World, policy: WorldPolicy) -> Conflict | None:
    """Why `policy` cannot become the default yet (not enough approvals, or rejected), or None.

    Needs `policy.approvals` (prefetched by the selectors).
    """
    state = approval_state(policy, required=world.approvals_required)
    if state.approved:
        return None
    return Conflict(
        f"Version {policy.version} has {state.approvals} of {world.approvals_required} "
        f"approvals needed" + (" and was rejected" if state.rejections else "") + ".",
        code="approval_required",
    )


def set_default_version(
    *, actor: User, world_id: str, version: int, expected_etags: set[str] | None = None
) -> WorldPolicy:
    """Make `version` the world's default once it has enough approvals.

    A version that was the default before counts as approved, so rolling back is immediate.
    The swap happens under the world's row lock, so two concurrent calls cannot both win.
    """
    with transaction.atomic():
        world = locked_world(world_id)
        require_match(expected_etags or set(), world.etag)
        policy = get_version(world.id, version)
        if world.default_policy_version == policy.version:
            return policy
        refusal = approval_refusal(world=world, policy=policy)
        if refusal is not None:
            raise refusal
        activate_version(actor=actor, world=world, policy=policy)
    return policy
