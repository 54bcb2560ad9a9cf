"""Recorded rebalancing runs (for idempotency) and each world's latest allocation."""

from __future__ import annotations

from django.db import models

from worlds.models import World


class RebalanceKind(models.TextChoices):
    REBALANCING_APPLY = "rebalancing_apply"
    ALLOCATION = "allocation"


class RebalanceRun(models.Model):
    """A `/rebalancing/apply` or `/allocations` call with a run_id: replayed, never redone."""

    kind = models.CharField(max_length=24, choices=RebalanceKind)
    run_id = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=71)
    response = models.JSONField()
    actor = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "run_id"], name="rebalance_run_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.run_id}"


class WorldAllocation(models.Model):
    """The world's latest allocation (share of total equity), replaced by each upsert."""

    world = models.OneToOneField(
        World, on_delete=models.CASCADE, primary_key=True, related_name="allocation"
    )
    allocation = models.FloatField()
    run_id = models.CharField(max_length=128)
    etag = models.CharField(max_length=100)
    strategy_alloc_total = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.world_id}: {self.allocation}"
