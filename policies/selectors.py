"""Reads of world policies and their reviews."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Prefetch, Q, QuerySet

from policies.dsl import parse_policy, summarize_gates
from policies.models import PolicyApproval, PolicyStatus, ReviewDecision, WorldPolicy
from worlds.models import World
from worlds.roles import approvable_worlds
from worldservice.api.errors import NotFound


@dataclass(frozen=True, slots=True)
class ApprovalState:
    approvals: int
    rejections: int
    approved: bool


def approval_state(policy: WorldPolicy, *, required: int) -> ApprovalState:
    """Approved: once the default before, or enough approvals and no rejection."""
    decisions = [review.decision for review in policy.approvals.all()]
    approvals = decisions.count(ReviewDecision.APPROVE)
    rejections = decisions.count(ReviewDecision.REJECT)
    approved = policy.activated_at is not None or (approvals >= required and rejections == 0)
    return ApprovalState(approvals, rejections, approved)


def versions(world_id: str) -> QuerySet[WorldPolicy]:
    """Every version of the world, ascending, with reviews and authors loaded."""
    return (
        WorldPolicy.objects.filter(world_id=world_id)
        .select_related("created_by", "world")
        .prefetch_related(
            Prefetch("approvals", queryset=PolicyApproval.objects.select_related("user"))
        )
        .order_by("version")
    )


def get_version(world_id: str, version: int) -> WorldPolicy:
    policy = versions(world_id).filter(version=version).first()
    if policy is None:
        raise NotFound(f"World {world_id!r} has no policy version {version}.")
    return policy


def version_numbers(world_id: str) -> list[int]:
    """The world's version numbers, ascending (one small query, however many versions)."""
    return list(
        WorldPolicy.objects.filter(world_id=world_id)
        .order_by("version")
        .values_list("version", flat=True)
    )


def with_review_counts(queryset: QuerySet[WorldPolicy]) -> QuerySet[WorldPolicy]:
    """`queryset` annotated with `approval_count` and `rejection_count` (no per-row queries)."""
    return queryset.annotate(
        approval_count=Count("approvals", filter=Q(approvals__decision=ReviewDecision.APPROVE)),
        rejection_count=Count("approvals", filter=Q(approvals__decision=ReviewDecision.REJECT)),
    )


def versions_awaiting_review(user: User | AnonymousUser) -> QuerySet[WorldPolicy]:
    """Drafts `user` may review and has not: on worlds where they approve, not written by them,
    not yet decided by them; oldest first."""
    if not user.is_authenticated:
        return WorldPolicy.objects.none()
    return (
        WorldPolicy.objects.filter(
            status=PolicyStatus.DRAFT, world__in=approvable_worlds(user).values("pk")
        )
        .exclude(created_by_id=user.pk)
        .exclude(approvals__user_id=user.pk)
        .select_related("created_by")
        .order_by("created_at", "id")
    )


def version_diff(world_id: str, version: int, against: int | None) -> str:
    """A unified diff of the stored texts: `against` (default: the current default) → `version`."""
    target = get_version(world_id, version)
    base_version = against if against is not None else target.world.default_policy_version
    base_text, base_name = "", "(none)"
    if base_version is not None:
        base = get_version(world_id, base_version)
        base_text, base_name = base.yaml, f"v{base.version}"
    lines = difflib.unified_diff(
        base_text.splitlines(keepends=True),
        target.yaml.splitlines(keepends=True),
        fromfile=base_name,
        tofile=f"v{target.version}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def default_policy(world: World) -> WorldPolicy | None:
    if world.default_policy_version is None:
        return None
    return WorldPolicy.objects.filter(world=world, version=world.default_policy_version).first()


def describe_default_policy(world: World) -> dict[str, Any]:
    """`policy` (the default version's normalised document) and `policy_human` for describe."""
    policy = default_policy(world)
    if policy is None:
        return {"policy": None, "policy_human": None}
    return {
        "policy": policy.document,
        "policy_human": summarize_gates(parse_policy(policy.document)),
    }
