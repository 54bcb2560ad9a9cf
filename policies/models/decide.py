"""The inputs of decide (bindings, decisions, history) and its memory of the last decision."""

from __future__ import annotations

from django.db import models

from worlds.models import World


class StrategyBinding(models.Model):
    """A strategy bound to the world (bindings only grow: POST adds to the union)."""

    world = models.ForeignKey(World, on_delete=models.CASCADE, related_name="bindings")
    strategy_id = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["world_id", "strategy_id"]
        constraints = [
            models.UniqueConstraint(fields=["world", "strategy_id"], name="binding_unique")
        ]

    def __str__(self) -> str:
        return f"{self.world_id}:{self.strategy_id}"


class WorldDecisions(models.Model):
    """The world's decided (active) strategies, in order; replaced as a whole."""

    world = models.OneToOneField(
        World, on_delete=models.CASCADE, primary_key=True, related_name="decisions"
    )
    strategies = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "world decisions"

    def __str__(self) -> str:
        return f"{self.world_id}: {', '.join(self.strategies) or '-'}"


class HistoryEntry(models.Model):
    """The latest data-history metadata of one strategy in the world (upserted per strategy)."""

    world = models.ForeignKey(World, on_delete=models.CASCADE, related_name="history")
    strategy_id = models.CharField(max_length=128)
    node_id = models.CharField(max_length=256)
    interval = models.JSONField()
    rows = models.BigIntegerField(null=True, blank=True)
    coverage_bounds = models.JSONField(null=True, blank=True)
    conformance_flags = models.JSONField(null=True, blank=True)
    conformance_warnings = models.JSONField(null=True, blank=True)
    dataset_fingerprint = models.CharField(  # noqa: DJ001 - null is "not reported"
        max_length=256, null=True, blank=True
    )
    as_of = models.DateTimeField()
    artifact = models.JSONField(null=True, blank=True)
    reported_updated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The reporter's own `updated_at` (the Gateway sends it); null when not given.",
    )
    execution_domain = models.CharField(  # noqa: DJ001 - null is "not reported"
        max_length=32,
        null=True,
        blank=True,
        help_text="The domain the data was computed for (backtest, dryrun, live, shadow, or "
        "another short word), lower-cased; null when not given.",
    )
    updated_at = models.DateTimeField(auto_now=True, help_text="When WorldService stored it.")

    class Meta:
        ordering = ["world_id", "as_of", "strategy_id"]
        verbose_name_plural = "history entries"
        constraints = [
            models.UniqueConstraint(
                fields=["world", "strategy_id"], name="history_one_per_strategy"
            )
        ]
        indexes = [models.Index(fields=["world", "as_of"], name="history_world_as_of")]

    def __str__(self) -> str:
        return f"{self.world_id}:{self.strategy_id}@{self.as_of:%Y-%m-%dT%H:%M:%SZ}"


class DecisionMemory(models.Model):
    """The world's previous decision, shared by every worker (for `hysteresis_hold`)."""

    world = models.OneToOneField(
        World, on_delete=models.CASCADE, primary_key=True, related_name="decision_memory"
    )
    effective_mode = models.CharField(max_length=16)
    dataset_fingerprint = models.CharField(  # noqa: DJ001 - null is "not reported"
        max_length=256, null=True, blank=True
    )
    decided_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.world_id}: {self.effective_mode}"
