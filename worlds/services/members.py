"""World membership: who holds which role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.db import transaction

from worlds.audit import record_audit
from worlds.models import World, WorldUserObjectPermission
from worlds.roles import ROLE_PERMISSIONS, Role, world_permissions
from worlds.services.lookup import locked_world
from worldservice.api.errors import Conflict, NotFound

ROLE_CODENAMES = frozenset(code for codes in ROLE_PERMISSIONS.values() for code in codes)


def _world_permissions(codenames: tuple[str, ...]) -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="worlds", codename__in=codenames))


def _direct_role(world: World, user_id: int) -> Role | None:
    codenames = set(
        WorldUserObjectPermission.objects.filter(
            content_object=world,
            user_id=user_id,
            permission__codename__in=ROLE_CODENAMES,
            permission__content_type__app_label="worlds",
        ).values_list("permission__codename", flat=True)
    )
    return world_permissions.role_from_codenames(codenames)


def grant_role(*, world: World, user: User, role: Role) -> None:
    """Replace the user's direct role on the world (no audit: callers record their own)."""
    WorldUserObjectPermission.objects.filter(
        content_object=world,
        user_id=user.pk,
        permission__codename__in=ROLE_CODENAMES,
        permission__content_type__app_label="worlds",
    ).delete()
    WorldUserObjectPermission.objects.bulk_create(
        WorldUserObjectPermission(content_object=world, user_id=user.pk, permission=permission)
        for permission in _world_permissions(world_permissions.codenames_of(role))
    )
    world_permissions.forget(world.id, user.pk)


def owner_count(world: World) -> int:
    return (
        WorldUserObjectPermission.objects.filter(
            content_object=world, permission__codename="own_world"
        )
        .values("user_id")
        .distinct()
        .count()
    )


def _user(username: str) -> User:
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist as exc:
        raise NotFound(f"User {username!r} does not exist.") from exc


def _refuse_last_owner(world: World, current: Role | None, new: Role | None) -> None:
    if current == Role.OWNER and new != Role.OWNER and owner_count(world) <= 1:
        raise Conflict(
            "This is the world's last owner; make someone else owner first.", code="last_owner"
        )


def set_member_role(*, actor: User, world_id: str, username: str, role: Role) -> Role:
    """Give `username` exactly `role` on the world."""
    with transaction.atomic():
        world = locked_world(world_id)
        user = _user(username)
        current = _direct_role(world, user.pk)
        _refuse_last_owner(world, current, role)
        if current != role:
            grant_role(world=world, user=user, role=role)
            record_audit(
                event="member_changed",
                actor=actor.get_username(),
                world_id=world.id,
                request={"user": username, "role": role.label},
                result={"before": current.label if current else None, "after": role.label},
            )
    return role


def remove_member(*, actor: User, world_id: str, username: str) -> None:
    """Take every role on the world away from `username`."""
    with transaction.atomic():
        world = locked_world(world_id)
        user = _user(username)
        current = _direct_role(world, user.pk)
        if current is None:
            raise NotFound(f"{username!r} is not a member of world {world_id!r}.")
        _refuse_last_owner(world, current, None)
        WorldUserObjectPermission.objects.filter(
            content_object=world,
            user_id=user.pk,
            permission__codename__in=ROLE_CODENAMES,
            permission__content_type__app_label="worlds",
        ).delete()
        world_permissions.forget(world.id, user.pk)
        record_audit(
            event="member_changed",
            actor=actor.get_username(),
            world_id=world.id,
            request={"user": username, "role": None},
            result={"before": current.label, "after": None},
        )
