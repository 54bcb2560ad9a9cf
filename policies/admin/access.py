"""What one person may do with one world's policy versions in the admin, and why not.

The pages ask this object before showing a button, and show its sentence instead of a button that
would be refused. The services still decide: every write goes through them, and the sentences
are the services' own where a service holds the rule (`review_refusal`, `approval_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User

from policies.models import WorldPolicy
from policies.services.defaults import approval_refusal
from policies.services.reviews import already_reviewed, review_refusal
from worlds.models import World
from worlds.roles import Role, world_permissions
from worldservice.api.errors import Forbidden, NotFound


@dataclass(frozen=True, slots=True)
class VersionRights:
    """The rights of `user` on `world`'s versions; built by `rights_on`."""

    user: User
    world: World
    role: Role | None

    @property
    def may_open_world(self) -> bool:
        """Whether the world's admin page opens for this user (else it is not linked)."""
        return self.role is not None and world_permissions.opens_world_pages(self.user)

    def review_refusal(self, policy: WorldPolicy) -> str | None:
        """Why the user cannot approve or reject `policy` (its approvals prefetched), or None."""
        refusal = review_refusal(actor=self.user, policy=policy)
        if refusal is not None:
            return refusal.detail
        if any(review.user_id == self.user.pk for review in policy.approvals.all()):
            return already_reviewed(policy.version).detail
        return None

    def default_refusal(self, policy: WorldPolicy) -> str | None:
        """Why the user cannot make `policy` the default (or roll back to it), or None."""
        if policy.version == self.world.default_policy_version:
            return f"Version {policy.version} is the default already."
        role_refusal = self._owner_refusal("Setting the default")
        if role_refusal is not None:
            return role_refusal
        refusal = approval_refusal(world=self.world, policy=policy)
        return refusal.detail if refusal is not None else None

    def write_refusal(self) -> str | None:
        """Why the user cannot write a new version of the world, or None."""
        return self._owner_refusal("Writing a new version")

    def _owner_refusal(self, doing: str) -> str | None:
        return world_permissions.role_refusal(self.role, Role.OWNER, self.world.id, doing)


def rights_on(user: User, world_id: str) -> VersionRights:
    """The user's rights on the world's versions, if they may read them at all.

    Reading needs the `policies.view_worldpolicy` permission (the admin's own gate; 403
    without it) and, as in the API, a role on the world or the approver permission (404
    without them: a world's existence is not shown to those who may not see it).
    """
    if not world_permissions.opens_policy_pages(user):
        raise Forbidden(
            "Policy versions in the admin need the policies.view_worldpolicy permission "
            "(the Risk staff and Operators groups hold it)."
        )
    world = World.objects.filter(pk=world_id).first()
    role = world_permissions.role(user, world_id) if world is not None else None
    if world is None or (role is None and not world_permissions.can_approve(user, world_id)):
        raise NotFound(f"World {world_id!r} does not exist.")
    return VersionRights(user=user, world=world, role=role)
