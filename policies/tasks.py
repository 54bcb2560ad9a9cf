"""Celery tasks of the policies app: thin wrappers that take ids and call a service."""

from __future__ import annotations

import logging

import structlog
from celery import shared_task

from policies.models import EvaluationRun
from policies.services.evaluations import carry_out_evaluation, fail_evaluation
from policies.services.stalled_evaluations import resend_stalled_evaluations
from worldservice.context import correlation_scope
from worldservice.dispatch import send

logger = logging.getLogger(__name__)


@shared_task(name="policies.evaluate_run", acks_late=True)
def evaluate_run(run_pk: int) -> None:
    found = (
        EvaluationRun.objects.filter(pk=run_pk)
        .values_list("correlation_id", "run_id", "world_id")
        .first()
    )
    correlation_id, run_id, world_id = found or (None, None, None)
    structlog.contextvars.bind_contextvars(run_id=run_id, world_id=world_id)
    with correlation_scope(correlation_id):
        try:
            carry_out_evaluation(run_pk)
        except Exception as exc:
            logger.exception("evaluation run %s failed", run_pk)
            fail_evaluation(run_pk, f"{type(exc).__name__}: {exc}")


@shared_task(name="policies.resend_stalled_evaluations", ignore_result=True)
def resend_stalled_evaluations_task() -> list[str]:
    """Send again the task of runs left pending by a lost task (a refused send, a dead worker)."""
    with correlation_scope(None):
        return resend_stalled_evaluations(lambda run_pk: send(evaluate_run, run_pk))
