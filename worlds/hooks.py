"""Signals the base app sends so the apps above it can act, without `worlds` importing them.

`world_changed` is sent inside the transaction of every change to a world row (settings,
state, deletion). Receivers may raise to refuse the change: it is sent with `send`, so an
exception propagates and the transaction rolls back. Decide's cache
(`policies/decide_cache.py`) listens, and refuses the change when it cannot be told.
"""

from __future__ import annotations

from django.dispatch import Signal

world_changed = Signal()  # kwargs: world_id


def notify_world_changed(world_id: str) -> None:
    world_changed.send(sender=None, world_id=world_id)
