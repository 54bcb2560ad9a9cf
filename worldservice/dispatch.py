"""Sending a Celery task and waiting a bounded time for it, as evaluate and apply requests do.

On the embedded default tasks run in process (eager), so the wait is the run itself.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import TimeoutError as CeleryTimeout
from celery.result import AsyncResult
from kombu.exceptions import OperationalError

from worldservice.api.outages import BROKER, unavailable

logger = logging.getLogger(__name__)


def send(task: Task, *args: Any) -> AsyncResult:
    """Enqueue `task(*args)`; a broker that cannot take it is a 503 `dependency_unavailable`."""
    try:
        return task.apply_async(args=args)
    except OperationalError as exc:
        logger.warning("the task broker refused %s: %s", task.name, exc)
        raise unavailable(BROKER) from exc


def wait_for(task: Task, result: AsyncResult, *, wait_seconds: float) -> bool:
    """True when the task behind `result` finished within `wait_seconds`.

    The task's own failures are recorded by the task on its run; they are not raised here.
    """
    if wait_seconds <= 0:
        return bool(result.ready())
    try:
        result.get(timeout=wait_seconds, propagate=False, disable_sync_subtasks=False)
    except CeleryTimeout:
        return False
    except OperationalError:
        logger.warning("result backend unavailable while waiting for %s", task.name)
        return False
    return True


def run_and_wait(task: Task, *args: Any, wait_seconds: float) -> bool:
    """Enqueue `task(*args)`; True when it finished within `wait_seconds`."""
    return wait_for(task, send(task, *args), wait_seconds=wait_seconds)


class RunDispatch:
    """One task for a run that is being recorded: sent from inside the recording transaction.

    With a real broker the task is sent before the run commits, so a broker that refuses it
    rolls the run back (and whatever the transaction holds: its audit row, its lock): a refused
    request leaves nothing behind. The task may then arrive before the commit and must wait for
    it (see `activation.tasks.apply_run`). Tasks that run in process (the embedded default) are
    sent after the commit instead, as they would otherwise run inside the transaction.
    """

    def __init__(self, task: Task) -> None:
        self.task = task
        self.result: AsyncResult | None = None

    def in_transaction(self, *args: Any) -> None:
        """Call inside the transaction recording the run (raises 503 when refused)."""
        if not self.task.app.conf.task_always_eager:
            self.result = send(self.task, *args)

    def wait(self, *args: Any, wait_seconds: float) -> bool:
        """Send the task unless `in_transaction` did; True when it finished in time."""
        result = self.result if self.result is not None else send(self.task, *args)
        return wait_for(self.task, result, wait_seconds=wait_seconds)
