"""The Celery app: `celery -A worldservice worker|beat`."""

from __future__ import annotations

import logging.config
import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

from worldservice.task_logs import TaskLogStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worldservice.settings")

app = Celery("worldservice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task lines (task_started, task_succeeded, ...) with the sender's log context; see
# worldservice/task_logs.py and docs/operations.md#logs.
app.steps["worker"].add(TaskLogStep)


@setup_logging.connect
def _use_django_logging(loglevel: Any = None, **kwargs: Any) -> None:
    """Worker and beat log through the settings' `LOGGING`, as web and relay do, at the
    command line's `--loglevel`."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
