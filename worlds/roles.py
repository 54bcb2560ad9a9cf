"""World roles, answered by one policy object.

Roles are stored as django-guardian object permissions on the world (direct-FK tables), so the
admin and guardian's own tools see them. A role is a fixed set of permissions, nested
reader ⊂ operator ⊂ owner; the role of a user is the highest set they hold, directly or through a
group. Lookups are cached because the Gateway reads decide and activation thousands of times a
second; every membership change invalidates the user's entry and entries expire anyway.
"""

from __future__ import annotations

import enum
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.db import transaction
from django.db.models import Q, QuerySet

from worlds.hot_reads import MISSING, LocalCopies, new_generation, roles_generation_key
from worlds.models import World, WorldGroupObjectPermission, WorldUserObjectPermission
from worlds.principals import TokenUser
from worldservice.api.errors import Forbidden, NotFound
from worldservice.cache import cache_delete, cache_get, cache_set

ROLE_CACHE_SECONDS = 60
LOCAL_ROLES = LocalCopies()
APPROVE_PERMISSION = "policies.approve_worldpolicy"
WORLD_APPROVE_CODENAME = "approve_policies"
AUDITOR_PERMISSION = "worlds.view_worldauditlog"
CREATE_WORLD_PERMISSION = "worlds.add_world"


class Role(enum.IntEnum):
    READER = 1
    OPERATOR = 2
    OWNER = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Role:
        return cls[label.upper()]


ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.READER: ("view_world",),
    Role.OPERATOR: ("view_world", "operate_world"),
    Role.OWNER: ("view_world", "operate_world", "own_world", "change_world", "delete_world"),
}
ROLE_MARKERS: tuple[tuple[str, Role], ...] = (
    ("own_world", Role.OWNER),
    ("operate_world", Role.OPERATOR),
    ("view_world", Role.READER),
)
ROLE_LABELS = tuple(role.label for role in Role)

User = UserModel | AnonymousUser


def role_from_codenames(codenames: set[str]) -> Role | None:
    for marker, role in ROLE_MARKERS:
        if marker in codenames:
            return role
    return None


def _cache_key(world_id: str, user_id: int) -> str:
    return f"role:{world_id}:{user_id}"


def _stored_role(user_id: int, world_id: str) -> Role | None:
    codenames = set(
        WorldUserObjectPermission.objects.filter(
            user_id=user_id,
            content_object_id=world_id,
            permission__content_type__app_label="worlds",
        ).values_list("permission__codename", flat=True)
    )
    codenames |= set(
        WorldGroupObjectPermission.objects.filter(
            group__user__id=user_id,
            content_object_id=world_id,
            permission__content_type__app_label="worlds",
        ).values_list("permission__codename", flat=True)
    )
    return role_from_codenames(codenames)


def world_role(user: User | TokenUser, world_id: str, *, generation: Any = None) -> Role | None:
    """The caller's role on the world, or None when the world is unknown or not theirs.

    `generation` is the world's roles generation when the request prefetched it: then a copy
    in this process's memory answers without any round trip.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    local_key = (world_id, user.pk)
    cached = LOCAL_ROLES.get(local_key, generation)
    if cached is not MISSING:
        return Role(cached) if cached else None
    key = _cache_key(world_id, user.pk)
    cached = cache_get(key)
    if cached is None:
        if getattr(user, "is_superuser", False):
            found = Role.OWNER if World.objects.filter(pk=world_id).exists() else None
        else:
            found = _stored_role(user.pk, world_id)
        cached = int(found) if found is not None else 0
        cache_set(key, cached, ROLE_CACHE_SECONDS)
    LOCAL_ROLES.put(local_key, generation, cached, ROLE_CACHE_SECONDS)
    return Role(cached) if cached else None


def require_role(user: User, world_id: str, needed: Role, *, generation: Any = None) -> Role:
    """The caller's role, if it is at least `needed`: no role is 404, too low a role is 403."""
    role = world_role(user, world_id, generation=generation)
    if role is None:
        raise NotFound(f"World {world_id!r} does not exist.")
    if role < needed:
        raise Forbidden(
            f"This needs the {needed.label} role on world {world_id!r}; you are {role.label}."
        )
    return role


def forget_role(world_id: str, user_id: int) -> None:
    """Drop the cached role now and again when the transaction commits.

    The second delete covers a reader that cached the old role between the two moments.
    """
    key = _cache_key(world_id, user_id)
    cache_delete(key)
    transaction.on_commit(lambda: cache_delete(key))
    LOCAL_ROLES.discard((world_id, user_id))
    new_generation(roles_generation_key(world_id))


def _worlds_granting(
    user: User, codename: str, queryset: QuerySet[World] | None
) -> QuerySet[World]:
    """The worlds on which the caller holds the object permission `codename`, directly or
    through a group (superusers: every world)."""
    queryset = World.objects.all() if queryset is None else queryset
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if getattr(user, "is_superuser", False):
        return queryset
    direct = WorldUserObjectPermission.objects.filter(
        user_id=user.pk, permission__codename=codename
    ).values("content_object_id")
    through_group = WorldGroupObjectPermission.objects.filter(
        group__user__id=user.pk, permission__codename=codename
    ).values("content_object_id")
    return queryset.filter(Q(pk__in=direct) | Q(pk__in=through_group))


def _approver_grant() -> Q:
    return Q(
        permission__content_type__app_label="worlds", permission__codename=WORLD_APPROVE_CODENAME
    )


def visible_worlds(user: User, queryset: QuerySet[World] | None = None) -> QuerySet[World]:
    """The one queryset filter: the worlds on which the caller holds any role."""
    return _worlds_granting(user, "view_world", queryset)


def owned_worlds(user: User, queryset: QuerySet[World] | None = None) -> QuerySet[World]:
    """The worlds on which the caller holds the owner role."""
    return _worlds_granting(user, "own_world", queryset)


def approvable_worlds(user: User, queryset: QuerySet[World] | None = None) -> QuerySet[World]:
    """The worlds whose policy versions the caller may review (see `can_approve`)."""
    queryset = World.objects.all() if queryset is None else queryset
    if user.is_authenticated and user.is_active and user.has_perm(APPROVE_PERMISSION):
        return queryset
    return _worlds_granting(user, WORLD_APPROVE_CODENAME, queryset)


def can_approve(user: User, world_id: str) -> bool:
    """Approvers hold `policies.approve_worldpolicy` globally, or `worlds.approve_policies` on
    this world (the object-level form of the same right)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.has_perm(APPROVE_PERMISSION):
        return True
    return (
        WorldUserObjectPermission.objects.filter(
            _approver_grant(), user_id=user.pk, content_object_id=world_id
        ).exists()
        or WorldGroupObjectPermission.objects.filter(
            _approver_grant(), group__user__id=user.pk, content_object_id=world_id
        ).exists()
    )


def is_auditor(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(AUDITOR_PERMISSION))
