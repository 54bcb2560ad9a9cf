"""Running a Celery task and waiting a bounded time for it, as evaluate and apply requests do.

On the embedded default tasks run in process (eager), so the wait is the run itself.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import TimeoutError as CeleryTimeout
from kombu.exceptions import OperationalError

from worldservice.api.outages import BROKER, unavailable

logger = logging.getLogger(__name__)


def run_and_wait(task: Task, *args: Any, wait_seconds: float) -> bool:
    """Enqueue `task(*args)`; True when it finished within `wait_seconds`.

    The task's own failures are recorded by the task on its run; they are not raised here.
    """
    try:
        result = task.apply_async(args=args)
    except OperationalError as exc:
        raise unavailable(BROKER) from exc
    if wait_seconds <= 0:
        return result.ready()
    try:
        result.get(timeout=wait_seconds, propagate=False, disable_sync_subtasks=False)
    except CeleryTimeout:
        return False
    except OperationalError:
        logger.warning("result backend unavailable while waiting for %s", task.name)
        return False
    return True
