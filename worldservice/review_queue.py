"""What awaits a reviewer, from every app: the admin home's "Awaiting my review".

A review source is a callable `user -> iterable of ReviewItem`. Apps register theirs from their
`admin.py` with one line, `review_sources.register(source)`; the admin home merges every source,
oldest request first. A source answers only what the user may review and open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One thing waiting for the user's decision, and the page where they take it."""

    kind: str  # what it is, as people say it: "policy version", "world change"
    world: str  # the world's id
    title: str
    requested_by: str  # a username
    requested_at: dt.datetime
    url: str


ReviewSource = Callable[[User | AnonymousUser], Iterable[ReviewItem]]


class ReviewSources:
    """The registered sources, in registration order."""

    def __init__(self) -> None:
        self._sources: list[ReviewSource] = []

    def register(self, source: ReviewSource) -> ReviewSource:
        """Add `source` (once; registering it again changes nothing). Usable as a decorator."""
        if source not in self._sources:
            self._sources.append(source)
        return source

    def unregister(self, source: ReviewSource) -> None:
        if source in self._sources:
            self._sources.remove(source)

    def awaiting(self, user: User | AnonymousUser) -> list[ReviewItem]:
        """Every item awaiting `user`, oldest request first."""
        if not user.is_authenticated or not user.is_active:
            return []
        items = [item for source in self._sources for item in source(user)]
        items.sort(key=lambda item: (item.requested_at, item.kind, item.world, item.title))
        return items


review_sources = ReviewSources()
