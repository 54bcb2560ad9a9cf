"""Tie a Celery task's log lines to the request (or task) that sent it.

django-structlog carries the sender's bound log context to the worker in a task header
(`__django_structlog__`) and binds it again before the task runs; this module adds the
sender's correlation id to that header and, in the worker, makes it the current correlation id
for the task's whole run (so the audit rows and events the task records carry it too, unless
the task opens a scope of its own). See docs/operations.md#logs.
"""

from __future__ import annotations

from typing import Any

import structlog
from celery import bootsteps
from celery.signals import after_task_publish, before_task_publish, task_postrun, task_prerun
from django.dispatch import receiver
from django_structlog.celery import signals
from django_structlog.celery.receivers import CeleryReceiver

from worldservice.context import (
    adopt_correlation_id,
    correlation_id_in_scope,
    release_correlation_id,
)

HEADER = "__django_structlog__"
_SCOPE_ATTRIBUTE = "_worldservice_correlation_scope"


@receiver(signals.modify_context_before_task_publish)
def _send_correlation_id(context: dict[str, Any], **kwargs: Any) -> None:
    correlation_id = correlation_id_in_scope()
    if correlation_id is not None:
        context["correlation_id"] = correlation_id


def _sent_correlation_id(task: Any) -> str | None:
    sent = getattr(task.request, HEADER, None)
    value = sent.get("correlation_id") if isinstance(sent, dict) else None
    return value if isinstance(value, str) else None


@task_prerun.connect
def _adopt(task: Any = None, **kwargs: Any) -> None:
    """A worker runs many tasks in one thread: every task starts from its sender's id alone."""
    if task is None or task.request.is_eager:
        return  # in process: the caller's scope is already current
    setattr(task.request, _SCOPE_ATTRIBUTE, adopt_correlation_id(_sent_correlation_id(task)))


@task_postrun.connect
def _release(task: Any = None, **kwargs: Any) -> None:
    """Back to no id, and no bound fields: the worker's own lines between tasks (a task
    received, ...) must not carry the last task's."""
    token = getattr(task.request, _SCOPE_ATTRIBUTE, None) if task is not None else None
    if token is not None:
        release_correlation_id(token)
        setattr(task.request, _SCOPE_ATTRIBUTE, None)
        structlog.contextvars.clear_contextvars()


class _WorkerReceiver(CeleryReceiver):
    """The worker's half of django-structlog's receivers: the publishing half is connected in
    every process already (`DJANGO_STRUCTLOG_CELERY_ENABLED`); twice, every `task_enqueued`
    line would be written twice."""

    def connect_worker_signals(self) -> None:
        super().connect_worker_signals()
        before_task_publish.disconnect(self.receiver_before_task_publish)
        after_task_publish.disconnect(self.receiver_after_task_publish)


class TaskLogStep(bootsteps.Step):
    """Worker boot step: `task_started`, `task_succeeded`, `task_failed`, ... lines."""

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.receiver = _WorkerReceiver()
        self.receiver.connect_worker_signals()
