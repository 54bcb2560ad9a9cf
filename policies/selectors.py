"""Reads of world policies and their reviews."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from policies.dsl import parse_policy, summarize_gates
from policies.models import PolicyApproval, ReviewDecision, WorldPolicy
from worlds.models import World
from worlds.selectors import get_world
from worldservice.api.errors import NotFound
from worldservice.state_hashes import StateHash


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


def policy_state_hash(world_id: str) -> StateHash:
    """The state hash topic `policy`: the default version's checksum and number.

    A world without a default policy answers `{"state_hash": null, "version": 0}` (decide's
    `policy_version` is 0 then too), so a client's cached copy of a policy never matches it.
    """
    policy = default_policy(get_world(world_id))
    if policy is None:
        return {"state_hash": None, "version": 0}
    return {"state_hash": policy.checksum, "version": policy.version}


def describe_default_policy(world: World) -> dict[str, Any]:
    """What describe shows of the default version: `policy` (its normalised document),
    `policy_human`, and the preset it was made from (all null when there is no default)."""
    policy = default_policy(world)
    if policy is None:
        return {
            "policy": None,
            "policy_human": None,
            "policy_preset": None,
            "policy_preset_mode": None,
            "policy_preset_version": None,
            "policy_overrides": None,
        }
    return {
        "policy": policy.document,
        "policy_human": summarize_gates(parse_policy(policy.document)),
        "policy_preset": policy.preset,
        "policy_preset_mode": policy.preset_mode,
        "policy_preset_version": policy.preset_version,
        "policy_overrides": policy.preset_overrides,
    }
