"""Four-eyes review of policy versions."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from policies.models import PolicyApproval, ReviewDecision, WorldPolicy
from policies.selectors import get_version
from worlds.audit import record_audit
from worlds.four_eyes import review_refusal as four_eyes_refusal
from worlds.services.lookup import locked_world
from worldservice.api.errors import Conflict, Forbidden

AUDIT_EVENTS = {ReviewDecision.APPROVE: "policy_approved", ReviewDecision.REJECT: "policy_rejected"}


def review_refusal(*, actor: User, policy: WorldPolicy) -> Forbidden | None:
    """Why `actor` may not review `policy` at all, or None when they may (the four-eyes rule
    of `worlds.four_eyes`). `review_policy` raises it; the admin shows it instead of the Approve
    and Reject buttons."""
    return four_eyes_refusal(
        actor,
        policy.world_id,
        author_id=policy.created_by_id,
        subject="policies",
        authored="wrote this version",
    )


def already_reviewed(version: int) -> Conflict:
    """The refusal of a second review of one version by the same reviewer."""
    return Conflict(f"You already reviewed version {version}.", code="already_reviewed")


def review_policy(
    *, actor: User, world_id: str, version: int, decision: ReviewDecision, comment: str = ""
) -> PolicyApproval:
    """Record `actor`'s approval or rejection of one version.

    Only approvers may review; nobody, not even a superuser, may review a version they wrote;
    each reviewer decides once per version.
    """
    with transaction.atomic():
        world = locked_world(world_id)
        policy: WorldPolicy = get_version(world.id, version)
        refusal = review_refusal(actor=actor, policy=policy)
        if refusal is not None:
            raise refusal
        try:
            with transaction.atomic():
                review = PolicyApproval.objects.create(
                    policy=policy, user=actor, decision=decision, comment=comment
                )
        except IntegrityError as exc:
            raise already_reviewed(version) from exc
        record_audit(
            event=AUDIT_EVENTS[ReviewDecision(decision)],
            actor=actor.get_username(),
            world_id=world.id,
            request={"version": version, "comment": comment},
            result={"decision": decision, "checksum": policy.checksum},
        )
    return review
