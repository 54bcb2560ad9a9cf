"""Celery tasks of the activation app: thin wrappers that take ids and call a service.

The periodic ones are scheduled in `worldservice.beat`. The 2-phase apply's tasks live with it
(`activation/apply/tasks.py`); importing them here is how Celery, which looks in each app's
`tasks` module, finds them.
"""

from __future__ import annotations

from celery import shared_task

from activation.apply.tasks import apply_run, reap_stale_applies_task
from activation.services.expiry import expire_overrides as expire_due_overrides
from activation.services.snapshots import snapshot_all_worlds as snapshot_worlds
from worldservice.context import correlation_scope

__all__ = ["apply_run", "expire_overrides", "reap_stale_applies_task", "snapshot_all_worlds"]


@shared_task(name="activation.tasks.expire_overrides", ignore_result=True)
def expire_overrides() -> int:
    """Revert every override whose TTL ran out, even when nobody reads the entry."""
    with correlation_scope(None):
        return expire_due_overrides()


@shared_task(name="activation.tasks.snapshot_all_worlds", ignore_result=True)
def snapshot_all_worlds() -> int:
    """Snapshot every world's activation set that changed since its last snapshot."""
    with correlation_scope(None):
        return snapshot_worlds(reason="periodic")
