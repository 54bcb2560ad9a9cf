"""Versioned world policies and their reviews."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from worlds.models import ReviewDecision, World


class PolicyStatus(models.TextChoices):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    DEPRECATED = "DEPRECATED"


class PresetMode(models.TextChoices):
    """How a preset was applied, as the existing CLI reports it (metadata only)."""

    SHARED = "shared"
    CLONE = "clone"
    EXTEND = "extend"


MAX_PRESET_VERSION_CHARS = 64


class WorldPolicy(models.Model):
    """One immutable version of a world's policy: the exact text and its normalised form.

    Only `status` and `activated_at` ever change; the database refuses edits to the content
    (the preset fields included).
    """

    world = models.ForeignKey(World, on_delete=models.PROTECT, related_name="policies")
    version = models.PositiveIntegerField()
    yaml = models.TextField(help_text="The exact text uploaded (or the canonical dump).")
    document = models.JSONField(help_text="The normalised policy document.")
    checksum = models.CharField(max_length=71, help_text="sha256 of the stored text.")
    status = models.CharField(max_length=16, choices=PolicyStatus, default=PolicyStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_policies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    # What the version was made from, when it was made from a preset (else all null).
    preset = models.CharField(  # noqa: DJ001 - null is "not made from a preset"
        max_length=64, null=True, blank=True, help_text="The preset's name."
    )
    preset_mode = models.CharField(  # noqa: DJ001 - null is "not given"
        max_length=8,
        choices=PresetMode,
        null=True,
        blank=True,
        help_text="How the client applied the preset (metadata only).",
    )
    preset_version = models.CharField(  # noqa: DJ001 - null is "not given"
        max_length=MAX_PRESET_VERSION_CHARS,
        null=True,
        blank=True,
        help_text="The client's version label of the preset (metadata only).",
    )
    preset_overrides = models.JSONField(
        null=True, blank=True, help_text="The overrides applied to the preset, as sent."
    )
    activated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this version first became the default; such a version counts as "
        "approved, so rolling back to it needs no new review.",
    )

    class Meta:
        ordering = ["world_id", "version"]
        verbose_name = "world policy version"
        permissions = [("approve_worldpolicy", "Can approve or reject world policy versions")]
        constraints = [
            models.UniqueConstraint(fields=["world", "version"], name="policy_world_version"),
            models.UniqueConstraint(
                fields=["world"],
                condition=models.Q(status="ACTIVE"),
                name="policy_one_active_per_world",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="policy_version_pos"),
        ]

    def __str__(self) -> str:
        return f"{self.world_id} v{self.version} ({self.status})"


class PolicyApproval(models.Model):
    """One reviewer's decision on one version. Versions are immutable, so it cannot go stale."""

    policy = models.ForeignKey(WorldPolicy, on_delete=models.PROTECT, related_name="approvals")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="policy_reviews"
    )
    decision = models.CharField(max_length=8, choices=ReviewDecision)
    comment = models.TextField(blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["policy_id", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "user"], name="approval_one_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.decision}s {self.policy}"
