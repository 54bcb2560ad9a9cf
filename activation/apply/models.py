"""The record of one 2-phase apply run (imported into `activation.models`)."""

from __future__ import annotations

from django.db import models

from worlds.models import World

FINISHED_PHASES = ("completed", "rolled_back")


class ApplyPhase(models.TextChoices):
    REQUESTED = "requested"
    FREEZE = "freeze"
    SWITCH = "switch"
    UNFREEZE = "unfreeze"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled_back"


class ApplyRun(models.Model):
    """One apply per (world, run_id), kept forever so a replay always finds its result.

    At most one unfinished run per world is allowed by the database itself: that constraint is
    the single-flight guarantee across every process and machine.
    """

    world = models.ForeignKey(World, on_delete=models.CASCADE, related_name="apply_runs")
    run_id = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=71)
    request = models.JSONField()
    phase = models.CharField(max_length=16, choices=ApplyPhase, default=ApplyPhase.REQUESTED)
    ok = models.BooleanField(null=True, blank=True)
    active = models.JSONField(default=list, help_text="The target set (or the restored one).")
    weights = models.JSONField(default=dict)
    previous = models.JSONField(
        null=True,
        blank=True,
        help_text="The pre-apply activation entries and decisions, restored on rollback.",
    )
    stages = models.JSONField(default=list)
    event_sequence = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    actor = models.CharField(max_length=150)
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    lease_expires_at = models.DateTimeField(
        help_text="A run not moved on by then is taken over by the reaper and rolled back."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["world_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["world", "run_id"], name="apply_run_unique"),
            models.UniqueConstraint(
                fields=["world"],
                condition=~models.Q(phase__in=FINISHED_PHASES),
                name="apply_single_flight",
            ),
        ]
        indexes = [models.Index(fields=["phase", "lease_expires_at"], name="apply_unfinished")]

    def __str__(self) -> str:
        return f"{self.world_id}/{self.run_id} ({self.phase})"

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES

    @classmethod
    def in_flight(cls, world_id: str) -> bool:
        """Whether the world has an unfinished apply (an override refuses with 409 then).

        Callers that must not race a starting apply check this under the world's row lock,
        which `request_apply` also holds while it records the run.
        """
        return cls.objects.filter(world_id=world_id).exclude(phase__in=FINISHED_PHASES).exists()
