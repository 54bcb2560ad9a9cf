"""Reads of worlds, members and the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from worlds.models import (
    World,
    WorldAuditLog,
    WorldChange,
    WorldChangeApproval,
    WorldChangeStatus,
    WorldState,
    WorldUserObjectPermission,
)
from worlds.roles import User, world_permissions
from worldservice.api.errors import NotFound


def get_world(world_id: str) -> World:
    try:
        return World.objects.select_related("owner").get(pk=world_id)
    except World.DoesNotExist as exc:
        raise NotFound(f"World {world_id!r} does not exist.") from exc


def filter_worlds(
    queryset: QuerySet[World], *, state: str | None = None, label: str | None = None
) -> QuerySet[World]:
    """DELETED worlds appear only when asked for by state."""
    queryset = queryset.filter(state=state) if state else queryset.exclude(state=WorldState.DELETED)
    if label:
        if connection.vendor == "postgresql":
            queryset = queryset.filter(labels__contains=[label])
        else:
            table = World._meta.db_table
            queryset = queryset.extra(  # noqa: S610 - fixed SQL, the label is a bound parameter
                where=[f"EXISTS (SELECT 1 FROM json_each({table}.labels) WHERE value = %s)"],  # noqa: S608
                params=[label],
            )
    return queryset.select_related("owner")


def list_members(world_id: str) -> list[dict[str, str]]:
    """`[{"user", "role"}]` for every user holding a direct role, ordered by username."""
    grants = WorldUserObjectPermission.objects.filter(
        content_object_id=world_id, permission__content_type__app_label="worlds"
    ).values_list("user__username", "permission__codename")
    codenames_by_user: dict[str, set[str]] = {}
    for username, codename in grants:
        codenames_by_user.setdefault(username, set()).add(codename)
    members = []
    for username in sorted(codenames_by_user):
        role = world_permissions.role_from_codenames(codenames_by_user[username])
        if role is not None:
            members.append({"user": username, "role": role.label})
    return members


@dataclass(frozen=True, slots=True)
class AuditFilters:
    world_id: str | None = None
    event: str | None = None
    actor: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def audit_rows(filters: AuditFilters) -> QuerySet[WorldAuditLog]:
    """Audit rows matching `filters`, oldest first."""
    rows = WorldAuditLog.objects.all()
    if filters.world_id is not None:
        rows = rows.filter(world_id=filters.world_id)
    if filters.event:
        rows = rows.filter(event=filters.event)
    if filters.actor:
        rows = rows.filter(actor=filters.actor)
    if filters.since:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until:
        rows = rows.filter(created_at__lt=filters.until)
    return rows.order_by("id")


def _with_reviews(changes: QuerySet[WorldChange]) -> QuerySet[WorldChange]:
    return changes.select_related("requested_by", "world").prefetch_related(
        Prefetch("approvals", queryset=WorldChangeApproval.objects.select_related("user"))
    )


def world_changes(world_id: str, *, status: str | None = None) -> QuerySet[WorldChange]:
    """The world's governed changes, newest first, with their reviews loaded."""
    changes = WorldChange.objects.filter(world_id=world_id)
    if status:
        changes = changes.filter(status=status)
    return _with_reviews(changes).order_by("-id")


def get_world_change(world_id: str, change_id: int) -> WorldChange:
    change = world_changes(world_id).filter(pk=change_id).first()
    if change is None:
        raise NotFound(f"World {world_id!r} has no change {change_id}.")
    return change


def visible_world_changes(user: User) -> QuerySet[WorldChange]:
    """Changes of the worlds `user` holds a role on, or may approve on (to review them)."""
    return _with_reviews(
        WorldChange.objects.filter(
            Q(world__in=world_permissions.visible_worlds(user))
            | Q(world__in=world_permissions.approvable_worlds(user))
        )
    )


def world_changes_awaiting_review(user: User) -> QuerySet[WorldChange]:
    """Pending changes `user` may approve now, oldest first.

    They are on worlds where `user` is an approver (the rule of `worlds.four_eyes`), were not
    requested by `user`, and `user` has not reviewed them yet.
    """
    if not user.is_authenticated:
        return WorldChange.objects.none()
    return (
        _with_reviews(
            WorldChange.objects.filter(
                status=WorldChangeStatus.PENDING,
                world__in=world_permissions.approvable_worlds(user),
            )
        )
        .exclude(requested_by_id=user.pk)
        .exclude(approvals__user_id=user.pk)
        .order_by("requested_at", "id")
    )


def previous_row_hashes(row_ids: list[int]) -> dict[int, str]:
    """For each audit row, the hash of the row before it in its world's chain ("" for a world's
    first row). One query; each look-up is one step back on the (world_id, id) index."""
    if not row_ids:
        return {}
    before = (
        WorldAuditLog.objects.filter(world_id=OuterRef("world_id"), id__lt=OuterRef("id"))
        .order_by("-id")
        .values("hash")[:1]
    )
    rows = (
        WorldAuditLog.objects.filter(id__in=row_ids)
        .annotate(previous_hash=Subquery(before))
        .values_list("id", "previous_hash")
    )
    return {row_id: previous or "" for row_id, previous in rows}
