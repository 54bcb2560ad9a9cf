"""Reads of world policies and their reviews, and of a strategy's evaluation runs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet

from policies.dsl import parse_policy, summarize_gates
from policies.models import (
    EvaluationRun,
    PolicyApproval,
    PolicyStatus,
    ReviewDecision,
    WorldPolicy,
)
from worlds.models import World
from worlds.roles import approvable_worlds
from worlds.selectors import get_world
from worldservice.api.errors import NotFound
from worldservice.json_values import JSONValueAt
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


# --- a strategy's evaluation runs ---------------------------------------------------------------


class StrategyPart(TypedDict):
    """What a strategy's run reads carry beyond the run's own columns."""

    part: Any  # the strategy's entry of the result's `strategies` (null until completed)
    metrics: Any  # the strategy's entry of the request's `metrics` (null when it had none)


class StrategyInputs(StrategyPart):
    series: Any  # the strategy's entry of the request's `series` (null when it had none)


class StrategyHistory(StrategyPart):
    entry: Any  # the copy of the history entry the run kept for the strategy
    snapshot_taken: bool  # whether the run kept copies at all


if TYPE_CHECKING:  # django-stubs' names for runs carrying these annotations
    from django_stubs_ext import WithAnnotations

    StrategyRun = WithAnnotations[EvaluationRun, StrategyPart]
    StrategyRunInputs = WithAnnotations[EvaluationRun, StrategyInputs]
    StrategyRunHistory = WithAnnotations[EvaluationRun, StrategyHistory]

# The run's documents grow with the number of strategies it evaluated: reads about one strategy
# leave them in the database and select that strategy's part of them (`JSONValueAt`).
RUN_DOCUMENTS = ("request", "result", "policy_document", "history_snapshot")


def strategy_runs(world_id: str, strategy_id: str) -> QuerySet[StrategyRun]:
    """The runs that evaluated the strategy (its metrics were sent, or the result reports it),
    each with the strategy's part of the result as `part` and its metrics as `metrics`."""
    return (
        EvaluationRun.objects.filter(
            world_id=world_id, evaluated__world_id=world_id, evaluated__strategy_id=strategy_id
        )
        .defer(*RUN_DOCUMENTS)
        .annotate(
            part=JSONValueAt("result", "strategies", key=strategy_id),
            metrics=JSONValueAt("request", "metrics", key=strategy_id),
        )
    )


def _one_run(runs: QuerySet[Any], world_id: str, strategy_id: str, run_id: str) -> Any:
    run = runs.filter(run_id=run_id).first()
    if run is None:
        raise NotFound(
            f"World {world_id!r} has no evaluation run {run_id!r} of strategy {strategy_id!r}."
        )
    return run


def strategy_run(world_id: str, strategy_id: str, run_id: str) -> StrategyRun:
    """One run of the strategy; NotFound when the run is unknown or did not evaluate it."""
    run: StrategyRun = _one_run(strategy_runs(world_id, strategy_id), world_id, strategy_id, run_id)
    return run


def strategy_run_inputs(world_id: str, strategy_id: str, run_id: str) -> StrategyRunInputs:
    """One run of the strategy with the metrics and series it was evaluated on."""
    runs = strategy_runs(world_id, strategy_id).annotate(
        series=JSONValueAt("request", "series", key=strategy_id)
    )
    run: StrategyRunInputs = _one_run(runs, world_id, strategy_id, run_id)
    return run


def strategy_run_history(world_id: str, strategy_id: str, run_id: str) -> StrategyRunHistory:
    """One run of the strategy with its copy of the strategy's history entry, if it kept one."""
    runs = strategy_runs(world_id, strategy_id).annotate(
        entry=JSONValueAt("history_snapshot", key=strategy_id),
        snapshot_taken=ExpressionWrapper(
            Q(history_snapshot__isnull=False), output_field=BooleanField()
        ),
    )
    run: StrategyRunHistory = _one_run(runs, world_id, strategy_id, run_id)
    return run
