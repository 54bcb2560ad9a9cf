"""Making a version the world's default (ACTIVE), shared by set-default and first uploads."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from policies.decide_cache import forget_decision
from policies.models import PolicyStatus, WorldPolicy
from worlds.audit import record_audit
from worlds.events import record_event
from worlds.models import World
from worldservice.clock import rfc3339


def activate_version(*, actor: User, world: World, policy: WorldPolicy) -> None:
    """Swap ACTIVE/DEPRECATED and move the world's default; the caller holds the world lock."""
    previous = world.default_policy_version
    now = timezone.now()
    # Deprecate first: the database allows one ACTIVE version per world at any instant.
    WorldPolicy.objects.filter(world=world, status=PolicyStatus.ACTIVE).exclude(
        pk=policy.pk
    ).update(status=PolicyStatus.DEPRECATED)
    policy.status = PolicyStatus.ACTIVE
    policy.activated_at = policy.activated_at or now
    policy.save(update_fields=["status", "activated_at"])
    world.default_policy_version = policy.version
    world.revision += 1
    world.save(update_fields=["default_policy_version", "revision", "updated_at"])
    forget_decision(world.id)
    record_audit(
        event="policy_default_set",
        actor=actor.get_username(),
        world_id=world.id,
        request={"version": policy.version},
        result={
            "previous": previous,
            "version": policy.version,
            "checksum": policy.checksum,
            "rollback": previous is not None and policy.version < previous,
        },
    )
    record_event(
        world_id=world.id,
        type="policy_updated",
        data={
            "policy_version": policy.version,
            "checksum": policy.checksum,
            "status": policy.status,
            "ts": rfc3339(now, seconds=True),
        },
    )
