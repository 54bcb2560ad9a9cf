"""Evaluation runs and the hysteresis state they advance."""

from __future__ import annotations

from django.db import models

from worlds.models import World


class EvaluationStatus(models.TextChoices):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class EvaluationRun(models.Model):
    """One evaluation (plan only): its request, the policy it used and its result."""

    world = models.ForeignKey(World, on_delete=models.CASCADE, related_name="evaluations")
    run_id = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=71, help_text="sha256 of the canonical request.")
    request = models.JSONField()
    policy_version = models.PositiveIntegerField(null=True, blank=True)
    policy_document = models.JSONField(help_text="The normalised policy evaluated.")
    advances_state = models.BooleanField(
        help_text="Evaluations of the default policy advance hysteresis; drafts, inline "
        "policies and simulations do not."
    )
    status = models.CharField(
        max_length=16, choices=EvaluationStatus, default=EvaluationStatus.PENDING
    )
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=150)
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["world_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["world", "run_id"], name="evaluation_run_unique")
        ]

    def __str__(self) -> str:
        return f"{self.world_id}/{self.run_id} ({self.status})"


class HysteresisRecord(models.Model):
    """Per (world, strategy): the counters and state hysteresis carries between evaluations."""

    world = models.ForeignKey(World, on_delete=models.CASCADE, related_name="hysteresis")
    strategy_id = models.CharField(max_length=128)
    state = models.JSONField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["world_id", "strategy_id"]
        constraints = [
            models.UniqueConstraint(fields=["world", "strategy_id"], name="hysteresis_unique")
        ]

    def __str__(self) -> str:
        return f"{self.world_id}:{self.strategy_id}"
