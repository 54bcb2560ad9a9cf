"""World roles and every other access rule, answered by one policy object: `world_permissions`.

The API's permission class, the views that check for themselves, the admin pages, the services
and the rebalancing routes all ask it; no other module knows the rules (docs/api.md, "Roles"):

- a role on a world is reader ⊂ operator ⊂ owner; no role means the world does not exist for the
  caller (404), too low a role is 403; superusers are owners of every existing world;
- approvers hold `policies.approve_worldpolicy` globally or `worlds.approve_policies` on one
  world, and may read that world's reviews without a role;
- auditors hold `worlds.view_worldauditlog`; creating a world needs `worlds.add_world`;
- the admin's own pages open on its global model permissions, then the world role decides.

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
WORLD_PAGE_PERMISSIONS = ("worlds.view_world", "worlds.change_world")
POLICY_PAGE_PERMISSION = "policies.view_worldpolicy"


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


def _no_world(world_id: str) -> NotFound:
    return NotFound(f"World {world_id!r} does not exist.")


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


def _holds_world_approval(user: UserModel, world_id: str) -> bool:
    return (
        WorldUserObjectPermission.objects.filter(
            _approver_grant(), user_id=user.pk, content_object_id=world_id
        ).exists()
        or WorldGroupObjectPermission.objects.filter(
            _approver_grant(), group__user__id=user.pk, content_object_id=world_id
        ).exists()
    )


class WorldPermissionPolicy:
    """Every access question about worlds, and the one place that knows the answers.

    Questions come in three forms: `role`/`can_*`/`is_*` answer yes or no, `require*` raise the
    API's error (404 when the world must stay hidden, 403 otherwise), and `*_worlds` filter a
    queryset to what the caller may see. `role_refusal` words a refusal for pages that show it
    instead of raising.
    """

    # --- roles on one world -----------------------------------------------------------------

    def role(self, user: User | TokenUser, world_id: str, *, generation: Any = None) -> Role | None:
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
            cached = self._looked_up_role(user, world_id)
            cache_set(key, cached, ROLE_CACHE_SECONDS)
        LOCAL_ROLES.put(local_key, generation, cached, ROLE_CACHE_SECONDS)
        return Role(cached) if cached else None

    def _looked_up_role(self, user: UserModel | TokenUser, world_id: str) -> int:
        """The stored role as the caches hold it: the role's number, 0 for none."""
        if getattr(user, "is_superuser", False):
            found = Role.OWNER if World.objects.filter(pk=world_id).exists() else None
        else:
            found = _stored_role(user.pk, world_id)
        return int(found) if found is not None else 0

    def has_role(self, user: User | TokenUser, world_id: str, needed: Role) -> bool:
        return self.suffices(self.role(user, world_id), needed)

    def suffices(self, role: Role | None, needed: Role) -> bool:
        """Whether holding `role` (None: no role) allows what needs `needed`: roles nest."""
        return role is not None and role >= needed

    def require(
        self, user: User | TokenUser, world_id: str, needed: Role, *, generation: Any = None
    ) -> Role:
        """The caller's role, if it is at least `needed`: no role is 404, too low a role is 403."""
        role = self.role(user, world_id, generation=generation)
        if role is None:
            raise _no_world(world_id)
        if role < needed:
            raise Forbidden(
                f"This needs the {needed.label} role on world {world_id!r}; you are {role.label}."
            )
        return role

    def require_on_all(self, user: User, world_ids: set[str], needed: Role) -> None:
        """`needed` on every world named (rebalancing requests name several); in id order."""
        for world_id in sorted(world_ids):
            self.require(user, world_id, needed)

    def role_refusal(
        self, role: Role | None, needed: Role, world_id: str, doing: str
    ) -> str | None:
        """Why someone holding `role` cannot do `doing` (a capitalised phrase), or None."""
        if self.suffices(role, needed):
            return None
        held = f"you are {role.label}" if role is not None else "you hold no role on it"
        return f"{doing} needs the {needed.label} role on world {world_id!r}; {held}."

    # --- approvers ----------------------------------------------------------------------------

    def can_approve(self, user: User, world_id: str) -> bool:
        """Approvers hold `policies.approve_worldpolicy` globally, or `worlds.approve_policies`
        on this world (the object-level form of the same right)."""
        if not user.is_authenticated or not user.is_active:
            return False
        return user.has_perm(APPROVE_PERMISSION) or _holds_world_approval(user, world_id)

    def require_member_or_approver(self, user: User, world_id: str, role: Role | None) -> None:
        """Approvers reach a world's reviews without a role on it; anyone else needs a role.

        Without a role and without the approver right the world does not exist for the caller
        (404), as everywhere else; an approver asking for an unknown world gets the same 404.
        """
        if role is not None:
            return
        if not self.can_approve(user, world_id) or not World.objects.filter(pk=world_id).exists():
            raise _no_world(world_id)

    # --- service-wide rights ------------------------------------------------------------------

    def is_auditor(self, user: User) -> bool:
        return bool(user.is_authenticated and user.is_active and user.has_perm(AUDITOR_PERMISSION))

    def require_auditor(self, user: User) -> None:
        if not self.is_auditor(user):
            raise Forbidden("The audit log needs the worlds.view_worldauditlog permission.")

    def can_create_world(self, user: User) -> bool:
        return user.has_perm(CREATE_WORLD_PERMISSION)

    def require_create_world(self, user: User) -> None:
        if not self.can_create_world(user):
            raise Forbidden("Creating a world needs the worlds.add_world permission.")

    # --- the admin: its global model permissions open the pages, the role decides -------------

    def opens_world_pages(self, user: User | AnonymousUser) -> bool:
        """Whether the admin's world pages open at all (Django's global model permissions)."""
        return any(user.has_perm(name) for name in WORLD_PAGE_PERMISSIONS)

    def opens_policy_pages(self, user: User | AnonymousUser) -> bool:
        """Whether the admin's policy version pages open at all (its global view permission)."""
        return user.has_perm(POLICY_PAGE_PERMISSION)

    def admin_may_view(self, user: User, world: World | None) -> bool:
        return self.opens_world_pages(user) and (
            world is None or self.role(user, world.pk) is not None
        )

    def admin_may_change(self, user: User, world: World) -> bool:
        return self.opens_world_pages(user) and self.has_role(user, world.pk, Role.OWNER)

    def may_delete_in_bulk(self, user: User | AnonymousUser) -> bool:
        """No bulk deletion in the admin except for superusers: owners delete one world."""
        return bool(getattr(user, "is_superuser", False))

    # --- querysets ----------------------------------------------------------------------------

    def visible_worlds(
        self, user: User, queryset: QuerySet[World] | None = None
    ) -> QuerySet[World]:
        """The one queryset filter: the worlds on which the caller holds any role."""
        return _worlds_granting(user, "view_world", queryset)

    def owned_worlds(self, user: User, queryset: QuerySet[World] | None = None) -> QuerySet[World]:
        """The worlds on which the caller holds the owner role."""
        return _worlds_granting(user, "own_world", queryset)

    def approvable_worlds(
        self, user: User, queryset: QuerySet[World] | None = None
    ) -> QuerySet[World]:
        """The worlds whose policy versions and changes the caller may review."""
        queryset = World.objects.all() if queryset is None else queryset
        if user.is_authenticated and user.is_active and user.has_perm(APPROVE_PERMISSION):
            return queryset
        return _worlds_granting(user, WORLD_APPROVE_CODENAME, queryset)

    def reviewable_world_ids(self, user: User) -> QuerySet[World, Any]:
        """The ids (`pk`) of the worlds whose reviews the caller may read: a role, or the
        approver right."""
        return (
            self.visible_worlds(user).values("pk").union(self.approvable_worlds(user).values("pk"))
        )

    # --- the stored form of a role ------------------------------------------------------------

    def codenames_of(self, role: Role) -> tuple[str, ...]:
        """The object permissions that make up `role` (granted together, revoked together)."""
        return ROLE_PERMISSIONS[role]

    def role_from_codenames(self, codenames: set[str]) -> Role | None:
        return role_from_codenames(codenames)

    def forget(self, world_id: str, user_id: int) -> None:
        """Drop the cached role now and again when the transaction commits.

        The second delete covers a reader that cached the old role between the two moments.
        """
        key = _cache_key(world_id, user_id)
        cache_delete(key)
        transaction.on_commit(lambda: cache_delete(key))
        LOCAL_ROLES.discard((world_id, user_id))
        new_generation(roles_generation_key(world_id))


world_permissions = WorldPermissionPolicy()

# The names callers used before the policy object; each asks it.
world_role = world_permissions.role
require_role = world_permissions.require
forget_role = world_permissions.forget
visible_worlds = world_permissions.visible_worlds
owned_worlds = world_permissions.owned_worlds
approvable_worlds = world_permissions.approvable_worlds
can_approve = world_permissions.can_approve
is_auditor = world_permissions.is_auditor
