"""Reads of apply runs."""

from __future__ import annotations

from activation.apply.models import FINISHED_PHASES, ApplyRun


def apply_in_flight(world_id: str) -> bool:
    """Whether the world has an unfinished apply (the override refuses with 409 then).

    Callers that must not race a starting apply check this under the world's row lock, which
    `request_apply` also holds while it records the run.
    """
    return ApplyRun.objects.filter(world_id=world_id).exclude(phase__in=FINISHED_PHASES).exists()
