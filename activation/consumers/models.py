"""The last activation version each consumer (a Gateway, an SDK) acknowledged, per world."""

from __future__ import annotations

from django.db import models

from worlds.models import World


class ConsumerAck(models.Model):
    """One row per (world, consumer): its latest acknowledgement, never a lower version.

    A consumer's acknowledgements replace each other, so the table grows with the number of
    consumers (bounded per world), not with the number of changes.
    """

    world = models.ForeignKey(World, on_delete=models.CASCADE, related_name="consumer_acks")
    consumer = models.CharField(max_length=64)
    etag = models.CharField(max_length=400)
    version = models.PositiveBigIntegerField(help_text="The activation version of the etag.")
    run_id = models.CharField(max_length=128, blank=True, default="")
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    processed_at = models.DateTimeField(help_text="When the consumer says it processed it.")
    event_time = models.DateTimeField(
        null=True, blank=True, help_text="The time of the activation event the etag names."
    )
    skew_seconds = models.FloatField(
        null=True, blank=True, help_text="processed_at minus the event's time."
    )
    acked_at = models.DateTimeField(help_text="When the service recorded the acknowledgement.")

    class Meta:
        ordering = ["world_id", "consumer"]
        constraints = [
            models.UniqueConstraint(fields=["world", "consumer"], name="consumer_ack_unique")
        ]

    def __str__(self) -> str:
        return f"{self.world_id}/{self.consumer} v{self.version}"
