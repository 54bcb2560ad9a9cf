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
    as_of = models.DateTimeField(
        help_text="The moment evaluated: the request's `as_of`, else when the run was recorded."
    )
    stage = models.CharField(  # noqa: DJ001 - null is "not given"
        max_length=32, null=True, blank=True, help_text="The request's `stage`, as sent."
    )
    advances_state = models.BooleanField(
        help_text="Evaluations of the default policy advance hysteresis; drafts, inline "
        "policies and simulations do not."
    )
    status = models.CharField(
        max_length=16, choices=EvaluationStatus, default=EvaluationStatus.PENDING
    )
    result = models.JSONField(null=True, blank=True)
    history_snapshot = models.JSONField(
        null=True,
        blank=True,
        help_text="By strategy evaluated: a copy of the data-history entry it was evaluated "
        "against (strategies without one are left out), taken when the run was carried out. "
        "Null for runs not carried out, and for runs carried out before copies were kept.",
    )
    error = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=150)
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    resent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its task was last sent again because the run stalled (null: never).",
    )
    resends = models.PositiveSmallIntegerField(
        default=0, help_text="How many times its task was sent again because the run stalled."
    )

    class Meta:
        ordering = ["world_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["world", "run_id"], name="evaluation_run_unique")
        ]
        indexes = [
            # The stalled-run check reads only pending runs, every few seconds, of a table that
            # keeps every run ever carried out.
            models.Index(
                fields=["created_at"],
                condition=models.Q(status="pending"),
                name="evaluation_run_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.world_id}/{self.run_id} ({self.status})"


class EvaluatedStrategy(models.Model):
    """One strategy one run evaluated: the index behind a strategy's list of runs.

    Written with the run for every strategy that has metrics in its request, and when it is
    carried out for the strategies the result adds (previously active ones without metrics).
    """

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="evaluated")
    world = models.ForeignKey(World, on_delete=models.CASCADE, related_name="+")
    strategy_id = models.CharField(max_length=128)

    class Meta:
        ordering = ["run_id", "strategy_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "strategy_id"], name="evaluated_strategy_unique")
        ]
        indexes = [
            models.Index(fields=["world", "strategy_id", "run"], name="evaluated_by_strategy")
        ]

    def __str__(self) -> str:
        return f"{self.world_id}:{self.strategy_id} in run {self.run_id}"


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
