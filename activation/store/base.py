"""The activation store interface, shared by the Redis and the database backends.

Every write is one atomic step: it checks the expected etags (compare-and-set), changes any number
of entries, bumps the world's version once and reports the whole set as it stands after the write.
Stores know nothing of audit rows or events: `activation.services` records those around a write.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field

from activation.entries import Entry, Key, make_etag, set_hash
from worldservice.api.errors import PreconditionFailed

# `expected` maps a key to the exact etag the entry must have, or to ABSENT: it must not exist.
ABSENT = None
Expected = Mapping[Key, str | None]
Changes = Mapping[Key, Mapping[str, object] | None]


class EtagMismatch(PreconditionFailed):
    """A compare-and-set found another etag than expected (HTTP 412)."""

    def __init__(self, world_id: str, key: Key, current: str | None) -> None:
        super().__init__(
            "The activation entry changed since you read it (If-Match does not match its ETag).",
            errors={"If-Match": [f"current etag is {current}" if current else "no such entry"]},
        )
        self.world_id = world_id
        self.key = key
        self.current = current


class StoreNotReady(Exception):
    """The store holds no version counter for the world: never used, or lost (Redis flushed).

    `activation.services.recovery.ensure_ready` tells the two apart and rebuilds a lost set.
    """

    def __init__(self, world_id: str) -> None:
        super().__init__(f"the activation store has no version counter for world {world_id!r}")
        self.world_id = world_id


@dataclass(frozen=True, slots=True)
class EntryRead:
    """One entry as read (`entry` None: no such entry), with the world's version.

    `state_hash` is None when the store had no hash at hand for that version; `ready` is False
    when the store has no counter for the world (then `entry` is None and `version` 0).
    """

    entry: Entry | None
    version: int
    state_hash: str | None
    ready: bool = True


@dataclass(frozen=True, slots=True)
class SetState:
    """The whole set of a world at one version."""

    world_id: str
    version: int
    entries: dict[Key, Entry]
    state_hash: str
    ready: bool = True


@dataclass(frozen=True, slots=True)
class HashState:
    state_hash: str
    version: int
    ready: bool = True


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What one atomic write did: the new version, each changed key before and after, the set."""

    world_id: str
    version: int
    before: dict[Key, Entry | None]
    after: dict[Key, Entry | None]
    entries: dict[Key, Entry] = field(default_factory=dict)
    state_hash: str = ""

    def etag(self, key: Key) -> str:
        return make_etag(self.world_id, key, self.version)

    @classmethod
    def between(
        cls,
        world_id: str,
        version: int,
        before_all: dict[Key, Entry],
        after_all: dict[Key, Entry],
        state_hash: str,
    ) -> WriteOutcome:
        """The outcome of a write that took the set from `before_all` to `after_all`."""
        touched = sorted(set(before_all) | set(after_all))
        return cls(
            world_id,
            version,
            {key: before_all.get(key) for key in touched},
            {key: after_all.get(key) for key in touched},
            after_all,
            state_hash,
        )


def check_expected(changes: Changes, expected: Expected | None) -> None:
    if expected and not set(expected) <= set(changes):
        raise ValueError("expected etags may only name keys that the write changes")


def empty_set(world_id: str, *, version: int = 0, ready: bool = False) -> SetState:
    return SetState(world_id, version, {}, set_hash(world_id, {}), ready)


class ActivationStore(abc.ABC):
    """The per-world activation set: entries keyed by (strategy_id, side), one version counter."""

    name: str = ""
    # True when writes join the caller's database transaction (and roll back with it).
    transactional: bool = False

    # -- reads ---------------------------------------------------------------------------------

    @abc.abstractmethod
    def get(self, world_id: str, strategy_id: str, side: str) -> EntryRead:
        """One entry, the world's version and (when at hand) the set's hash, in one step."""

    @abc.abstractmethod
    def get_all(self, world_id: str) -> SetState:
        """The whole set and its version, read atomically."""

    @abc.abstractmethod
    def hash_state(self, world_id: str) -> HashState:
        """`sha256:<hex>` over the canonical JSON of the whole set, and the version it is of."""

    @abc.abstractmethod
    def is_ready(self, world_id: str) -> bool:
        """Whether the store holds the world's version counter (see `StoreNotReady`)."""

    @abc.abstractmethod
    def due_expiries(self, now: str, limit: int = 1000) -> list[tuple[str, Key]]:
        """(world_id, key) of entries whose `expires_at` is at or before `now`."""

    # -- writes --------------------------------------------------------------------------------

    @abc.abstractmethod
    def apply_changes(
        self, world_id: str, changes: Changes, *, expected: Expected | None = None
    ) -> WriteOutcome:
        """Write (entry) or delete (None) every key in `changes` as one atomic step.

        `expected` (keys among `changes`) is checked in the same step; any mismatch raises
        `EtagMismatch` and writes nothing. Entries are normalised (`activation.entries.normalize`)
        and stamped with the new version and the time of the write. Raises `StoreNotReady` when
        the counter is missing.
        """

    @abc.abstractmethod
    def initialize(self, world_id: str) -> None:
        """Create the world's counter at 0 if it is missing (only for a never-written world)."""

    @abc.abstractmethod
    def replace_all(
        self, world_id: str, entries: Mapping[Key, Mapping[str, object]], *, min_version: int
    ) -> WriteOutcome:
        """Replace the whole set (restore) in one atomic step.

        Every entry gets the same new version: at least `min_version` and above the store's own
        counter. Entries keep `expires_at` and `previous`; `ts` becomes the time of the restore.
        Works whether or not the counter exists (it is what recreates a lost one).
        """

    # -- conveniences over apply_changes -------------------------------------------------------

    def write(
        self,
        world_id: str,
        strategy_id: str,
        side: str,
        entry: Mapping[str, object],
        *,
        if_match: str | None = None,
        if_absent: bool = False,
    ) -> WriteOutcome:
        """Write one entry; `if_match` (an etag) or `if_absent` make it a compare-and-set."""
        key = (strategy_id, side)
        return self.apply_changes(
            world_id, {key: entry}, expected=_expectation(key, if_match, if_absent)
        )

    def delete(
        self, world_id: str, strategy_id: str, side: str, *, if_match: str | None = None
    ) -> WriteOutcome:
        """Remove one entry (deleting a missing entry still bumps the version)."""
        key = (strategy_id, side)
        return self.apply_changes(
            world_id, {key: None}, expected=_expectation(key, if_match, False)
        )

    def write_many(
        self, world_id: str, changes: Changes, *, expected: Expected | None = None
    ) -> int:
        """Write or delete (None) many entries in one atomic step; the new version."""
        return self.apply_changes(world_id, changes, expected=expected).version

    def read_all(self, world_id: str) -> tuple[int, dict[Key, Entry]]:
        """(version, entries) of the whole set; raises `StoreNotReady` when it is not ready."""
        state = self.get_all(world_id)
        if not state.ready:
            raise StoreNotReady(world_id)
        return state.version, state.entries

    def state_hash(self, world_id: str) -> str:
        """The set's hash; raises `StoreNotReady` when it is not ready."""
        hashed = self.hash_state(world_id)
        if not hashed.ready:
            raise StoreNotReady(world_id)
        return hashed.state_hash

    def version(self, world_id: str) -> int:
        """The world's current version; raises `StoreNotReady` when it is not ready."""
        hashed = self.hash_state(world_id)
        if not hashed.ready:
            raise StoreNotReady(world_id)
        return hashed.version


def _expectation(key: Key, if_match: str | None, if_absent: bool) -> Expected | None:
    if if_absent:
        return {key: ABSENT}
    if if_match is not None:
        return {key: if_match}
    return None
