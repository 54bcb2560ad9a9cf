"""Worlds, their roles, the audit log, API tokens and the event outbox."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

WORLD_ID_REGEX = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
world_id_validator = RegexValidator(
    WORLD_ID_REGEX,
    "A world id is 1-64 characters: lower-case letters, digits, '_', '.', '-', "
    "starting with a letter or digit.",
    code="invalid_world_id",
)


class WorldState(models.TextChoices):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    DELETED = "DELETED"


class World(models.Model):
    """An environment in which strategies trade; the unit of ownership and of every role."""

    id = models.CharField(primary_key=True, max_length=64, validators=[world_id_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_worlds",
        help_text="The user who created the world. Further owners are world members.",
    )
    labels = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=16, choices=WorldState, default=WorldState.ACTIVE)
    default_policy_version = models.PositiveIntegerField(null=True, blank=True)
    allow_live = models.BooleanField(default=False)
    circuit_breaker = models.BooleanField(default=False)
    approvals_required = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(5)]
    )
    revision = models.PositiveIntegerField(
        default=1, help_text="Bumped on every change; the world's ETag is derived from it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        permissions = [
            ("operate_world", "Can operate the world: evaluate, apply, override activation"),
            ("own_world", "Owns the world: edit it, upload policies, manage members"),
            # guardian stores object permissions per content type, so the world-scoped form of
            # `policies.approve_worldpolicy` is this permission granted on the world.
            ("approve_policies", "Can approve or reject this world's policy versions"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approvals_required__lte=5), name="world_approvals_at_most_5"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=WorldState.values), name="world_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.id

    @property
    def etag(self) -> str:
        return f"world:{self.id}:{self.revision}"


class ReviewDecision(models.TextChoices):
    """A reviewer's decision, on a policy version or on a world change."""

    APPROVE = "approve"
    REJECT = "reject"


class WorldChangeStatus(models.TextChoices):
    PENDING = "PENDING"
    APPLIED = "APPLIED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"


class WorldChange(models.Model):
    """A change to a world's settings that loosens its governance, held for review.

    Its content (what it changes, from what, who asked and how many approvals it needs) never
    changes once stored: the database refuses it, so an approval always refers to exactly what
    was requested. Only its status and the moment it was decided move.
    """

    id = models.BigAutoField(primary_key=True)
    world = models.ForeignKey(World, on_delete=models.PROTECT, related_name="changes")
    changes = models.JSONField(help_text="The fields the change sets, with their new values.")
    previous = models.JSONField(help_text="Those fields' values when the change was requested.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_world_changes"
    )
    requested_at = models.DateTimeField()
    approvals_required = models.PositiveSmallIntegerField(
        help_text="The world's approvals_required when the change was requested."
    )
    status = models.CharField(
        max_length=16, choices=WorldChangeStatus, default=WorldChangeStatus.PENDING
    )
    decided_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was applied, rejected or withdrawn."
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = "world change"
        indexes = [
            models.Index(fields=["world", "status", "id"], name="world_change_status_idx"),
            models.Index(
                fields=["requested_at"],
                condition=models.Q(status="PENDING"),
                name="world_change_pending_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=WorldChangeStatus.values),
                name="world_change_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(approvals_required__gte=1, approvals_required__lte=5),
                name="world_change_approvals_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(status="PENDING") | models.Q(decided_at__isnull=False),
                name="world_change_decided_at_set",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.world_id} change #{self.id} ({self.status})"


class WorldChangeApproval(models.Model):
    """One reviewer's decision on one world change (append-only, one per reviewer)."""

    change = models.ForeignKey(WorldChange, on_delete=models.PROTECT, related_name="approvals")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="world_change_reviews"
    )
    decision = models.CharField(max_length=8, choices=ReviewDecision)
    comment = models.TextField(blank=True, default="")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["change_id", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "user"], name="world_change_approval_one_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.decision}s {self.change}"


class WorldUserObjectPermission(UserObjectPermissionBase):
    """Direct-FK grants, so removing a world removes its grants (no orphaned generic rows)."""

    content_object = models.ForeignKey(World, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class WorldGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(World, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


# Audit events whose rows record activation writes with `result.version` (see
# activation/history.py, which replays them), and that version as an indexable expression.
ACTIVATION_WRITE_EVENTS = ("activation_updated", "activation_override_expired", "apply_stage")
AUDITED_VERSION = Cast(KT("result__version"), models.BigIntegerField())


class WorldAuditLog(models.Model):
    """One append-only row per change or evaluation; the database refuses UPDATE and DELETE.

    `world_id` is a plain string, not a foreign key: the log outlives anything it describes and
    keeps the names as they were (the same holds for `actor`).
    """

    id = models.BigAutoField(primary_key=True)
    world_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    actor = models.CharField(max_length=150)
    event = models.CharField(max_length=64, db_index=True)
    request = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)
    correlation_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    prev_hash = models.CharField(max_length=71, blank=True, default="")
    hash = models.CharField(max_length=71)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["world_id", "id"], name="audit_world_id_idx"),
            # The activation writes of a world by the version they wrote: the activation console
            # finds who wrote each entry, and point-in-time reads replay the rows after a
            # snapshot, without reading the world's other rows (see docs/activation.md).
            models.Index(
                models.F("world_id"),
                AUDITED_VERSION,
                name="audit_activation_version_idx",
                condition=models.Q(event__in=ACTIVATION_WRITE_EVENTS),
            ),
        ]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"#{self.id} {self.world_id or '-'} {self.event} by {self.actor}"


class ApiToken(models.Model):
    """A bearer token. Only its sha256 is stored; the secret is shown once, when issued."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True, default="")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="The first characters, to recognise a token."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class WorldEvent(models.Model):
    """The transactional outbox: an event is stored with the change it reports, then relayed."""

    id = models.BigAutoField(primary_key=True)
    world_id = models.CharField(max_length=64, db_index=True)
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=64)
    data = models.JSONField()
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    idempotency_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField()
    relayed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["world_id", "seq"], name="event_world_seq_unique")
        ]

    def __str__(self) -> str:
        return f"{self.world_id}#{self.seq} {self.type}"


class RelayCursor(models.Model):
    """The last stream entry id the relay wrote, per stream, kept where Redis cannot lose it.

    Redis without persistence forgets the stream on restart; comparing the stream's last id
    with this one is how the relay notices (docs/events.md, "After Redis lost the stream").
    """

    stream = models.CharField(max_length=200, primary_key=True)
    last_entry_id = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.stream} @ {self.last_entry_id}"
