"""Recording a consumer's acknowledgement of an activation version (docs/activation.md).

An acknowledgement is telemetry, not a change of the world: it writes no audit row and no event.
Each consumer keeps one row per world, holding the highest version it acknowledged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from activation.consumers.etags import ParsedEtag, parse_activation_etag
from activation.consumers.models import ConsumerAck
from activation.consumers.selectors import acknowledged_event_time
from activation.store.watermark import highest_issued
from worlds.selectors import get_world
from worldservice.api.errors import Conflict, InvalidInput
from worldservice.clock_health import MAX_CLIENT_SKEW_SECONDS
from worldservice.metrics import activation_skew_seconds

# Consumers a world may have: names are chosen by clients, so their number is bounded.
MAX_CONSUMERS_PER_WORLD = 256


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    consumer: str
    etag: str
    processed_at: dt.datetime
    run_id: str | None = None
    sequence: int | None = None


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={field: [message]})


def _version_of(world_id: str, etag: str) -> ParsedEtag:
    parsed = parse_activation_etag(world_id, etag)
    if parsed is None:
        raise _invalid("etag", f"Not an activation etag of world {world_id!r}.")
    if parsed.version > highest_issued(world_id):
        raise _invalid("etag", "No such activation version has been issued.")
    return parsed


def _check_clock(processed_at: dt.datetime, event_time: dt.datetime | None) -> None:
    """A time past the tolerated client clock skew is a clock fault, refused rather than kept."""
    if (processed_at - timezone.now()).total_seconds() > MAX_CLIENT_SKEW_SECONDS:
        raise _invalid("processed_at", "processed_at is in the future (check the client's clock).")
    if event_time and (event_time - processed_at).total_seconds() > MAX_CLIENT_SKEW_SECONDS:
        raise _invalid(
            "processed_at", "processed_at is before the event was recorded (check the clock)."
        )


def _upsert(world_id: str, fields: dict[str, object]) -> ConsumerAck:
    """Store the acknowledgement unless the consumer already acknowledged a higher version."""
    consumer = str(fields["consumer"])
    rows = ConsumerAck.objects.filter(world_id=world_id, consumer=consumer)
    if rows.filter(version__lte=fields["version"]).update(**fields):
        return rows.get()
    existing = rows.first()
    if existing is not None:
        return existing  # an older version, late: the newer one stays
    if ConsumerAck.objects.filter(world_id=world_id).count() >= MAX_CONSUMERS_PER_WORLD:
        raise Conflict(
            f"World {world_id!r} has {MAX_CONSUMERS_PER_WORLD} consumers already.",
            code="too_many_consumers",
        )
    try:
        with transaction.atomic():
            return ConsumerAck.objects.create(world_id=world_id, **fields)
    except IntegrityError:  # the same consumer's first acknowledgement raced this one
        return _upsert(world_id, fields)


def acknowledge(world_id: str, ack: Acknowledgement) -> ConsumerAck:
    """Record that `ack.consumer` processed the activation version `ack.etag` names.

    The skew (`processed_at` minus the time of the event that carried the etag) is kept on the
    row and observed in `activation_skew_seconds`. Bad input is refused with nothing stored.
    """
    get_world(world_id)
    parsed = _version_of(world_id, ack.etag)
    event_time = acknowledged_event_time(
        world_id,
        etag=ack.etag,
        version=parsed.version,
        whole_set=parsed.whole_set,
        run_id=ack.run_id,
        sequence=ack.sequence,
    )
    _check_clock(ack.processed_at, event_time)
    skew = (ack.processed_at - event_time).total_seconds() if event_time else None
    fields: dict[str, object] = {
        "consumer": ack.consumer,
        "etag": ack.etag,
        "version": parsed.version,
        "run_id": ack.run_id or "",
        "sequence": ack.sequence,
        "processed_at": ack.processed_at,
        "event_time": event_time,
        "skew_seconds": skew,
        "acked_at": timezone.now(),
    }
    with transaction.atomic():
        stored = _upsert(world_id, fields)
    if skew is not None:
        activation_skew_seconds.observe(max(skew, 0.0))
    return stored
