"""Pending world changes awaiting the signed-in approver, as items of the admin home's
"Awaiting my review" (`worldservice/review_queue.py`)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.urls import reverse

from worlds.selectors import world_changes_awaiting_review
from worldservice.review_queue import ReviewItem


def world_changes_awaiting(user: User | AnonymousUser) -> list[ReviewItem]:
    """Pending changes of worlds' own settings that the user may approve and has not."""
    if not isinstance(user, User):
        return []
    rows = world_changes_awaiting_review(user).values_list(
        "pk", "world_id", "changes", "requested_by__username", "requested_at"
    )
    return [
        ReviewItem(
            kind="world change",
            world=world_id,
            title=f"{world_id} change #{pk}: {', '.join(sorted(changes))}",
            requested_by=requester,
            requested_at=requested_at,
            url=reverse("admin:worlds_worldchange_change", args=[pk]),
        )
        for pk, world_id, changes, requester, requested_at in rows
    ]
