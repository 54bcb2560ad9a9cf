"""What the apps above `worlds` add to a world, registered when each app is ready.

`worlds` is the base every app stands on, so it imports none of them (docs/architecture.md,
"Allowed dependencies"). Where one of its own operations must reach state another app owns, that
app registers a function here in its `AppConfig.ready`:

- change hooks run inside the transaction of every change to a world row (settings, state,
  deletion); one may raise to refuse the change, which rolls it back (policies: decide's cache
  refuses when it cannot be told, `policies/decide_cache.py`);
- deletion hooks run inside `delete_world`'s transaction, under the world row lock, in the order
  they were registered (activation ends unfinished applies and gates every entry off);
- describers add fields to `GET /worlds/{id}/describe` (policies: the default policy);
- the point-in-time reader answers the auditors' "What was live at" page (activation).

Plain registered functions rather than Django signals: a hook's failure must roll the change
back, and the order of the hooks matters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured

from worlds.models import World


class DeletionHook(Protocol):
    def __call__(self, *, actor: User, world_id: str) -> None: ...


Describer = Callable[[World], dict[str, Any]]
LiveAtReader = Callable[[str, dt.datetime], Any]

_change_hooks: list[Callable[[str], None]] = []
_deletion_hooks: list[DeletionHook] = []
_describers: list[Describer] = []
_live_at: list[LiveAtReader] = []


def on_world_changed(hook: Callable[[str], None]) -> None:
    """Run `hook(world_id)` inside the transaction of every change to a world row."""
    if hook not in _change_hooks:
        _change_hooks.append(hook)


def notify_world_changed(world_id: str) -> None:
    """Call every change hook; an exception refuses the change (the transaction rolls back)."""
    for hook in _change_hooks:
        hook(world_id)


def on_world_deleted(hook: DeletionHook) -> None:
    """Run `hook(actor=…, world_id=…)` whenever a world is deleted (once per app)."""
    if hook not in _deletion_hooks:
        _deletion_hooks.append(hook)


def world_deleted(*, actor: User, world_id: str) -> None:
    """Call every deletion hook; the caller holds the world lock inside its transaction."""
    for hook in _deletion_hooks:
        hook(actor=actor, world_id=world_id)


def add_describer(describer: Describer) -> None:
    """Add the fields `describer(world)` returns to the world's description."""
    if describer not in _describers:
        _describers.append(describer)


def describe(world: World) -> dict[str, Any]:
    """The fields every registered describer adds, in registration order."""
    fields: dict[str, Any] = {}
    for describer in _describers:
        fields.update(describer(world))
    return fields


def set_live_at_reader(reader: LiveAtReader) -> None:
    """The one reader of what was live in a world at a moment."""
    if _live_at and _live_at[0] is not reader:
        raise ImproperlyConfigured("The point-in-time reader is registered twice.")
    _live_at[:] = [reader]


def live_at(world_id: str, at: dt.datetime) -> Any:
    """What the registered reader says was live in the world at `at`."""
    if not _live_at:
        raise ImproperlyConfigured("No app registered a point-in-time reader.")
    return _live_at[0](world_id, at)
