"""The four-eyes rule, shared by policy versions and world changes.

Only approvers review (`policies.approve_worldpolicy`, globally or on the world), and nobody,
not even a superuser, reviews what they wrote or requested themselves. The API, the admin and the
"Awaiting my review" list all ask here, so they cannot disagree.
"""

from __future__ import annotations

from worlds.roles import APPROVE_PERMISSION, User, world_permissions
from worldservice.api.errors import Forbidden


def review_refusal(
    user: User, world_id: str, *, author_id: int | None, subject: str, authored: str
) -> Forbidden | None:
    """Why `user` may not review `subject` on the world, or None when they may.

    `author_id` is the user who wrote or requested the thing under review; `authored` says what
    they did to it, for the sentence ("wrote this version", "requested this change"). The
    author is told first that they may not review it, approver or not: that is the reason that
    holds whatever permissions they get.
    """
    if author_id is not None and author_id == user.pk:
        return Forbidden(f"You {authored}; another approver must review it.", code="self_approval")
    if not world_permissions.can_approve(user, world_id):
        return Forbidden(
            f"Reviewing {subject} needs the {APPROVE_PERMISSION} permission, "
            "globally or on this world."
        )
    return None


def require_reviewer(
    user: User, world_id: str, *, author_id: int | None, subject: str, authored: str
) -> None:
    """Raise the refusal of `review_refusal` (403, `self_approval` for the author)."""
    refusal = review_refusal(
        user, world_id, author_id=author_id, subject=subject, authored=authored
    )
    if refusal is not None:
        raise refusal
