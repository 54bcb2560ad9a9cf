"""Changes made outside the services still reach every process's token and role copies at once.

The services forget what they change (`revoke_token`, `forget_role`). The admin's user, group
and object-permission pages, and guardian's own helpers, write the models directly; these
receivers forget the same things for them, so deactivating a user, taking away superuser,
moving a user between groups or creating a world takes effect on the next request in every
process rather than when cached lookups expire.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from worlds.models import World, WorldGroupObjectPermission, WorldUserObjectPermission
from worlds.roles import world_permissions
from worlds.services.tokens import forget_user_tokens

SUPERUSER_BEFORE = "_worldservice_was_superuser"


def _only_last_login(update_fields: Any) -> bool:
    return update_fields is not None and set(update_fields) <= {"last_login"}


@receiver(pre_save, sender=User)
def _note_superuser_flag(
    sender: Any, instance: User, update_fields: Any = None, **kwargs: Any
) -> None:
    if instance.pk is not None and not _only_last_login(update_fields):
        before = User.objects.filter(pk=instance.pk).values_list("is_superuser", flat=True).first()
        setattr(instance, SUPERUSER_BEFORE, before)


@receiver(post_save, sender=User)
def _user_saved(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    if _only_last_login(update_fields):
        return  # a login changes nothing a token or role lookup holds
    forget_user_tokens(instance.pk)
    if getattr(instance, SUPERUSER_BEFORE, instance.is_superuser) != instance.is_superuser:
        _forget_roles(World.objects.values_list("pk", flat=True), [instance.pk])


@receiver(post_delete, sender=User)
def _user_deleted(sender: Any, instance: User, **kwargs: Any) -> None:
    forget_user_tokens(instance.pk)


@receiver(post_save, sender=WorldUserObjectPermission)
@receiver(post_delete, sender=WorldUserObjectPermission)
def _user_grant_changed(sender: Any, instance: WorldUserObjectPermission, **kwargs: Any) -> None:
    world_permissions.forget(instance.content_object_id, instance.user_id)


@receiver(post_save, sender=WorldGroupObjectPermission)
@receiver(post_delete, sender=WorldGroupObjectPermission)
def _group_grant_changed(sender: Any, instance: WorldGroupObjectPermission, **kwargs: Any) -> None:
    members = User.objects.filter(groups=instance.group_id).values_list("pk", flat=True)
    _forget_roles([instance.content_object_id], members)


@receiver(m2m_changed, sender=User.groups.through)
def _memberships_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """A user joined or left groups (either side of the relation, `clear()` included)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # group.user_set.add(...): the group is `instance`
        group_ids = [instance.pk]
        user_ids = list(pk_set or instance.user_set.values_list("pk", flat=True))
    else:  # user.groups.add(...): the user is `instance`
        user_ids = [instance.pk]
        group_ids = list(pk_set or instance.groups.values_list("pk", flat=True))
    worlds = set(
        WorldGroupObjectPermission.objects.filter(group_id__in=group_ids).values_list(
            "content_object_id", flat=True
        )
    )
    _forget_roles(worlds, user_ids)


@receiver(post_save, sender=World)
def _world_created(sender: Any, instance: World, created: bool, **kwargs: Any) -> None:
    """A superuser's cached "no such world" must not outlive the world's creation."""
    if created:
        superusers = User.objects.filter(is_superuser=True).values_list("pk", flat=True)
        _forget_roles([instance.pk], superusers)


def _forget_roles(world_ids: Iterable[str], user_ids: Iterable[int]) -> None:
    """Forget the cached role of every listed user on every listed world."""
    users = list(user_ids)
    for world_id in world_ids:
        for user_id in users:
            world_permissions.forget(world_id, user_id)
