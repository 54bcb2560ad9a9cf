"""The durable high-water mark: the highest activation version ever issued for a world.

Kept in `ActivationCounter` whatever the store. Redis writes and snapshots raise it; a set rebuilt
after Redis lost it continues above it, so versions never go backwards.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from activation.models import ActivationCounter


def highest_issued(world_id: str) -> int:
    version = (
        ActivationCounter.objects.filter(world_id=world_id).values_list("version", flat=True)
    ).first()
    return int(version or 0)


def note_issued(world_id: str, version: int) -> None:
    """Raise the mark to `version` (never lowers it); in the caller's transaction if any."""
    raised = ActivationCounter.objects.filter(world_id=world_id).update(
        version=Greatest(F("version"), Value(version))
    )
    if raised:
        return
    try:
        with transaction.atomic():
            ActivationCounter.objects.create(world_id=world_id, version=version)
    except IntegrityError:
        ActivationCounter.objects.filter(world_id=world_id).update(
            version=Greatest(F("version"), Value(version))
        )


def locked_counter(world_id: str) -> ActivationCounter:
    """The world's counter row (created at 0 if missing), locked for the current transaction."""
    ActivationCounter.objects.get_or_create(world_id=world_id)
    return ActivationCounter.objects.select_for_update().get(world_id=world_id)
