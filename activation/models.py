"""Activation: the per-world version counter, database-backed entries, snapshots, apply locks.

The live activation set lives in the store chosen by settings (`activation.store`): Redis when
`REDIS_URL` is set, else the `ActivationRow` table. Whatever the backend, `ActivationCounter`
durably holds the highest version ever issued for a world, so versions never go backwards, not
even after Redis lost everything and the set was rebuilt from an `ActivationSnapshot`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from activation.apply.models import ApplyPhase, ApplyRun
from activation.consumers.models import ConsumerAck
from worlds.models import World

__all__ = [
    "ActivationCounter",
    "ActivationRow",
    "ActivationSnapshot",
    "ApplyPhase",
    "ApplyRun",
    "ConsumerAck",
]


class ActivationCounter(models.Model):
    """Per world: the highest activation version issued.

    For the database store this *is* the counter (locked and bumped by every write). For the Redis
    store it is the durable high-water mark: raised with every write and snapshot, and the floor
    from which a rebuilt set continues (`max(snapshot version, high-water) + 1`).
    """

    world_id = models.CharField(primary_key=True, max_length=64)
    version = models.PositiveBigIntegerField(default=0)
    state_hash = models.CharField(
        max_length=71, blank=True, default="", help_text="Database store only: the set's hash."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "activation version counter"

    def __str__(self) -> str:
        return f"{self.world_id} v{self.version}"


class ActivationRow(models.Model):
    """One entry of the database-backed store (the embedded default)."""

    world_id = models.CharField(max_length=64)
    strategy_id = models.CharField(max_length=128)
    side = models.CharField(max_length=5)
    data = models.JSONField(help_text="The stored entry (see activation.entries).")
    version = models.PositiveBigIntegerField(help_text="The world version of its last write.")
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["world_id", "strategy_id", "side"]
        constraints = [
            models.UniqueConstraint(
                fields=["world_id", "strategy_id", "side"], name="activation_row_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.world_id}:{self.strategy_id}|{self.side}@{self.version}"


class ActivationSnapshot(models.Model):
    """The whole activation set of a world at one version, kept for recovery and audit."""

    world = models.ForeignKey(World, on_delete=models.CASCADE, related_name="activation_snapshots")
    version = models.PositiveBigIntegerField()
    entries = models.JSONField(help_text="Stored entries with strategy_id and side, sorted.")
    state_hash = models.CharField(max_length=71)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["world_id", "version", "id"]
        indexes = [
            models.Index(fields=["world", "version"], name="activation_snapshot_version"),
            models.Index(fields=["world", "created_at"], name="activation_snapshot_time"),
        ]

    def __str__(self) -> str:
        return f"{self.world_id} v{self.version} ({self.reason or 'snapshot'})"
