"""Policy versions awaiting the signed-in approver, as items of the admin home's
"Awaiting my review" (`worldservice/review_queue.py`)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.urls import reverse

from policies.selectors import versions_awaiting_review
from worlds.roles import world_permissions
from worldservice.review_queue import ReviewItem


def policy_versions_awaiting(user: User | AnonymousUser) -> list[ReviewItem]:
    """Drafts the user may review and has not, for those who can open the review pages."""
    if not world_permissions.opens_policy_pages(user):
        return []
    # Only the columns shown: a world may hold a thousand drafts, each with its document.
    rows = versions_awaiting_review(user).values_list(
        "world_id", "version", "created_by__username", "created_at"
    )
    versions = reverse("admin:policies_worldpolicy_changelist")
    return [
        ReviewItem(
            kind="policy version",
            world=world_id,
            title=f"{world_id} v{version}",
            requested_by=author,
            requested_at=created_at,
            url=f"{versions}{world_id}/v{version}/",  # as review_url(), without a reverse each
        )
        for world_id, version, author, created_at in rows
    ]
