"""Reads for Gateway convergence: the event an acknowledgement names, and each consumer's lag."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from activation.consumers.models import ConsumerAck
from activation.models import ActivationCounter
from activation.store.watermark import highest_issued
from worlds.models import WorldEvent

ACTIVATION_EVENT = "activation_updated"
# A consumer still behind a version that has been out this long is stale (the
# `activation_stale_consumers` gauge; docs/activation.md#gateway-convergence).
STALE_AFTER_SECONDS = 60.0


def acknowledged_event_time(
    world_id: str,
    *,
    etag: str,
    version: int,
    whole_set: bool,
    run_id: str | None = None,
    sequence: int | None = None,
) -> dt.datetime | None:
    """When the activation event the acknowledgement names was recorded, if there is one.

    An entry etag names the event that carried it; the set's etag names the event of its
    version. `run_id` and `sequence`, when given, must match too (an apply's stages).
    The newest match is found first by walking the world's `seq` index backwards.
    """
    events = WorldEvent.objects.filter(world_id=world_id, type=ACTIVATION_EVENT)
    events = events.filter(data__version=version) if whole_set else events.filter(data__etag=etag)
    if run_id:
        events = events.filter(data__run_id=run_id)
    if sequence is not None:
        events = events.filter(data__sequence=sequence)
    return events.order_by("-seq").values_list("created_at", flat=True).first()


def _current_version_time(world_id: str) -> dt.datetime | None:
    return (
        WorldEvent.objects.filter(world_id=world_id, type=ACTIVATION_EVENT)
        .order_by("-seq")
        .values_list("created_at", flat=True)
        .first()
    )


@dataclass(frozen=True, slots=True)
class ConsumerState:
    """One consumer's last acknowledgement and how far it is behind the current version."""

    consumer: str
    etag: str
    version: int
    run_id: str | None
    sequence: int | None
    processed_at: dt.datetime
    acked_at: dt.datetime
    skew_seconds: float | None
    lag_versions: int
    lag_seconds: float
    stale: bool


@dataclass(frozen=True, slots=True)
class Convergence:
    """The world's current activation version and every consumer's position against it."""

    world_id: str
    version: int
    version_at: dt.datetime | None
    consumers: list[ConsumerState]

    @property
    def converged(self) -> bool:
        return all(consumer.lag_versions == 0 for consumer in self.consumers)


def _state(ack: ConsumerAck, version: int, behind_for: float) -> ConsumerState:
    lag_versions = max(version - ack.version, 0)
    lag_seconds = behind_for if lag_versions else 0.0
    return ConsumerState(
        consumer=ack.consumer,
        etag=ack.etag,
        version=ack.version,
        run_id=ack.run_id or None,
        sequence=ack.sequence,
        processed_at=ack.processed_at,
        acked_at=ack.acked_at,
        skew_seconds=ack.skew_seconds,
        lag_versions=lag_versions,
        lag_seconds=lag_seconds,
        stale=lag_seconds > STALE_AFTER_SECONDS,
    )


@dataclass(frozen=True, slots=True)
class _Current:
    version: int
    at: dt.datetime | None
    behind_for: float


def _current(world_id: str, moment: dt.datetime) -> _Current:
    version_at = _current_version_time(world_id)
    behind_for = max((moment - version_at).total_seconds(), 0.0) if version_at else 0.0
    return _Current(highest_issued(world_id), version_at, behind_for)


def convergence(world_id: str, *, now: dt.datetime | None = None) -> Convergence:
    """Each consumer of the world against the highest activation version issued.

    `lag_seconds` is how long the current version has been out while the consumer has not
    acknowledged it (0 when it has): a lower bound on how far behind it is in time.
    """
    current = _current(world_id, now or timezone.now())
    acks = ConsumerAck.objects.filter(world_id=world_id).order_by("consumer")
    return Convergence(
        world_id,
        current.version,
        current.at,
        [_state(ack, current.version, current.behind_for) for ack in acks],
    )


def consumer_state(ack: ConsumerAck) -> ConsumerState:
    """One consumer's position (its stored acknowledgement), as in `convergence`."""
    current = _current(ack.world_id, timezone.now())
    return _state(ack, current.version, current.behind_for)


def stale_consumer_count(*, now: dt.datetime | None = None) -> int:
    """Consumers of every world that are behind a version out for over STALE_AFTER_SECONDS.

    One query, for `/metrics` (the `activation_stale_consumers` gauge).
    """
    moment = now or timezone.now()
    current = ActivationCounter.objects.filter(world_id=OuterRef("world_id")).values("version")
    latest = (
        WorldEvent.objects.filter(world_id=OuterRef("world_id"), type=ACTIVATION_EVENT)
        .order_by("-seq")
        .values("created_at")
    )
    cutoff = moment - dt.timedelta(seconds=STALE_AFTER_SECONDS)
    return (
        ConsumerAck.objects.annotate(current=Subquery(current[:1]), current_at=Subquery(latest[:1]))
        .filter(version__lt=F("current"), current_at__lt=cutoff)
        .count()
    )
