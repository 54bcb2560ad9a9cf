"""Evaluation runs that stalled: their task is sent again, and after a few tries they fail.

A recorded run waits for its task. The task can be lost after the run was committed: the broker
refused it (the request got a 503, the run stays pending), or the worker carrying it was killed
(its message waits in the broker for the visibility timeout, an hour by default). Either way
the run would stay pending, and the caller who was told 202 would never see its result or its
audit row. So a periodic task sends the task of every run pending for longer than
`STALLED_AFTER_SECONDS` again. That is always safe: a run is carried out at most once
(`carry_out_evaluation` locks the row and does nothing unless the run is still pending), and a
run being carried out right now holds that lock, so it is skipped here. A run that stalled
`MAX_RESENDS` times (a request that kills its worker, say) fails instead, with an audited
reason. See docs/operations.md, "Stalled evaluations".
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from policies.models import EvaluationRun, EvaluationStatus
from policies.services.evaluations import fail_evaluation

logger = logging.getLogger(__name__)

STALLED_AFTER_SECONDS = 30
MAX_RESENDS = 5
BATCH = 100  # per pass; the next pass takes the rest


def resend_stalled_evaluations(
    send: Callable[[int], Any], *, now: dt.datetime | None = None
) -> list[str]:
    """Send the task of each stalled run again (`send(run_pk)`); the run ids it acted on.

    A run whose task was already sent again `MAX_RESENDS` times is failed instead. When
    `send` raises (the broker is down), that run is left as it was and the pass ends: the next
    one tries again.
    """
    now = now or timezone.now()
    acted = []
    for run_pk in _stalled(now - dt.timedelta(seconds=STALLED_AFTER_SECONDS)):
        try:
            run_id = _resend_or_fail(run_pk, send, now)
        except Exception as exc:  # noqa: BLE001 - whatever the broker raised: retried next pass
            logger.warning("stalled evaluation runs not sent again this pass: %s", exc)
            break
        if run_id is not None:
            acted.append(run_id)
    return acted


def _stalled(cutoff: dt.datetime) -> list[int]:
    return list(
        EvaluationRun.objects.filter(status=EvaluationStatus.PENDING, created_at__lt=cutoff)
        .annotate(last_sent=Coalesce("resent_at", "created_at"))
        .filter(last_sent__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:BATCH]
    )


def _resend_or_fail(run_pk: int, send: Callable[[int], Any], now: dt.datetime) -> str | None:
    """One stalled run, under its row lock (skipped while a worker is carrying it out)."""
    with transaction.atomic():
        run = (
            EvaluationRun.objects.select_for_update(skip_locked=True)
            .filter(pk=run_pk, status=EvaluationStatus.PENDING)
            .first()
        )
        if run is None:
            return None
        if run.resends >= MAX_RESENDS:
            fail_evaluation(run.pk, f"its task was sent {run.resends + 1} times and never finished")
            logger.warning("evaluation run %s stalled %s times: failed", run.run_id, run.resends)
            return run.run_id
        run.resends, run.resent_at = run.resends + 1, now
        run.save(update_fields=["resends", "resent_at"])
        # Sent inside the transaction: a broker that refuses it leaves the run as it was. The
        # task may start before the commit; it waits for this row's lock, then finds it pending.
        send(run.pk)
    logger.warning("evaluation run %s stalled: its task was sent again", run.run_id)
    return run.run_id
