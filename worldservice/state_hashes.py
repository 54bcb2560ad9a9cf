"""State hashes by topic, for `GET /worlds/{id}/{topic}/state_hash`.

See docs/contract.md#what-the-existing-gateway-sends and docs/api.md#state-hashes.

A client keeps a copy of some state of a world (its activation set, its default policy) and asks
for the topic's hash to learn whether its copy is still current. Each app registers the topics
it owns when it is ready (`AppConfig.ready`), so the route serves them without the plumbing or
the `worlds` app importing the apps that own the state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from django.core.exceptions import ImproperlyConfigured

from worldservice.api.errors import NotFound


class StateHash(TypedDict):
    """What a topic's reader answers: the hash (null when there is no state) and its version."""

    state_hash: str | None
    version: int


class TopicStateHash(StateHash):
    world_id: str
    topic: str


StateHashReader = Callable[[str], StateHash]
"""Reads one topic's hash of a world (given its id); the caller has checked the world exists."""

_READERS: dict[str, StateHashReader] = {}


def register_state_hash_topic(topic: str, reader: StateHashReader) -> None:
    """Make `topic` answerable; a topic has exactly one reader."""
    known = _READERS.get(topic)
    if known is not None and known is not reader:
        raise ImproperlyConfigured(f"The state hash topic {topic!r} is registered twice.")
    _READERS[topic] = reader


def state_hash_topics() -> tuple[str, ...]:
    """Every registered topic, sorted."""
    return tuple(sorted(_READERS))


def read_topic_state_hash(world_id: str, topic: str) -> TopicStateHash:
    """`{"world_id", "topic", "state_hash", "version"}`; an unknown topic is NotFound."""
    reader = _READERS.get(topic)
    if reader is None:
        known = " and ".join(f"'{name}'" for name in state_hash_topics())
        raise NotFound(f"There is no state hash for {topic!r}; the topics are {known}.")
    answer = reader(world_id)
    return {
        "world_id": world_id,
        "topic": topic,
        "state_hash": answer["state_hash"],
        "version": answer["version"],
    }
