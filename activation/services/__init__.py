"""Activation services: overrides, expiry, snapshots, recovery, and reads of the current set.

The store itself is `activation.store`. Reads of the current set are services
(`activation.services.reads`) because they may revert an expired override or rebuild a lost set;
reads of history are `activation.selectors`.
"""

from activation.services.changes import SYSTEM_ACTOR, event_data, publish_changes
from activation.services.expiry import expire_overrides, expire_world
from activation.services.overrides import deactivate_all, override_activation
from activation.services.recovery import ensure_ready, restore_world, restore_worlds
from activation.services.snapshots import latest_snapshot, snapshot_all_worlds, take_snapshot

__all__ = [
    "SYSTEM_ACTOR",
    "deactivate_all",
    "ensure_ready",
    "event_data",
    "expire_overrides",
    "expire_world",
    "latest_snapshot",
    "override_activation",
    "publish_changes",
    "restore_world",
    "restore_worlds",
    "snapshot_all_worlds",
    "take_snapshot",
]
