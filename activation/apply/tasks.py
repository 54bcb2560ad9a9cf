"""Celery tasks of the 2-phase apply: thin wrappers that take ids and call a service."""

from __future__ import annotations

import logging

import structlog
from celery import shared_task

from activation.apply.models import ApplyRun
from activation.apply.services import await_recording, carry_out_apply, reap_stale_applies
from worldservice.context import correlation_scope

logger = logging.getLogger(__name__)


@shared_task(name="activation.apply_run", acks_late=True)
def apply_run(run_pk: int, world_id: str | None = None) -> None:
    """Carry out one apply run (its stages are fenced, so a redelivery is harmless).

    `world_id` is sent when the task leaves before its run commits: it first waits for that.
    """
    if world_id is not None:
        await_recording(world_id)
    found = ApplyRun.objects.filter(pk=run_pk).values_list("correlation_id", "run_id", "world_id")
    if not found:
        logger.warning("apply run %s was not recorded (its request rolled back)", run_pk)
        return
    correlation_id, run_id, recorded_world = found[0]
    structlog.contextvars.bind_contextvars(run_id=run_id, world_id=recorded_world)
    with correlation_scope(correlation_id):
        carry_out_apply(run_pk)


@shared_task(name="activation.reap_stale_applies", ignore_result=True)
def reap_stale_applies_task() -> list[str]:
    """Roll back runs whose worker died: no world stays frozen."""
    with correlation_scope(None):
        return reap_stale_applies()
