"""The one DRF permission class for world-scoped routes; the rules are `worlds.roles`'s policy.

Each view names the role a method needs. The caller's role is looked up before any handler runs:
no role is 404 (a world's existence is not leaked), too low a role is 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from worlds.hot_reads import prefetched, roles_generation_key
from worlds.roles import Role, world_permissions

ROLE_ATTRIBUTE = "world_role"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def request_role(request: Request) -> Role | None:
    """The caller's role on the route's world, as the permission check found it."""
    role: Role | None = getattr(request, ROLE_ATTRIBUTE, None)
    return role


class WorldRolePermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        world_id: str = view.kwargs["world_id"]
        needed: Role | None = view.required_role(request)
        if needed is None:  # the view checks access itself (e.g. approvers without a role)
            setattr(request, ROLE_ATTRIBUTE, world_permissions.role(request.user, world_id))
            return True
        generation = (prefetched(request) or {}).get(roles_generation_key(world_id))
        role = world_permissions.require(request.user, world_id, needed, generation=generation)
        setattr(request, ROLE_ATTRIBUTE, role)
        return True


class WorldScopedView(APIView):
    """Views under `/worlds/{world_id}/...`: readers may GET, `write_role` may change."""

    permission_classes = [WorldRolePermission]
    write_role: Role = Role.OWNER
    read_role: Role = Role.READER

    def required_role(self, request: Request) -> Role | None:
        if request.method in SAFE_METHODS:
            return self.read_role
        return self.write_role

    @property
    def world_id(self) -> str:
        return str(self.kwargs["world_id"])


def require_member_or_approver(request: Request, world_id: str) -> None:
    """Approvers reach a world's reviews without a role on it; anyone else needs a role.

    Call after `WorldRolePermission` ran with no required role: without a role and without the
    approver permission the world does not exist for the caller (404), as everywhere else.
    """
    world_permissions.require_member_or_approver(request.user, world_id, request_role(request))


class ReviewableWorldView(WorldScopedView):
    """Readers of the world may read, and so may approvers without a role (to review)."""

    def required_role(self, request: Request) -> Role | None:
        if request.method in SAFE_METHODS:
            return None
        return self.write_role

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in SAFE_METHODS:
            require_member_or_approver(request, self.world_id)
