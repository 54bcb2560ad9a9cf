"""Shortcut for `activation.services.snapshots` (`from activation.snapshots import ...`)."""

from activation.services.snapshots import latest_snapshot, snapshot_all_worlds, take_snapshot

__all__ = ["latest_snapshot", "snapshot_all_worlds", "take_snapshot"]
