"""Uploading a new policy version."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from policies.dsl import (
    ROOT_PATH,
    Policy,
    PolicyValidationError,
    dump_policy_yaml,
    parse_policy,
    parse_policy_text,
    policy_to_dict,
)
from policies.dsl.limits import MAX_DOCUMENT_CHARS
from policies.models import PolicyStatus, WorldPolicy
from policies.services.activation import activate_version
from worlds.audit import record_audit
from worlds.services.lookup import locked_world
from worldservice.api.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class PolicySource:
    """What was uploaded: exact text, a document, or a preset with overrides."""

    text: str | None = None
    document: Mapping[str, Any] | None = None
    preset: str | None = None
    preset_overrides: Mapping[str, Any] | None = None

    @property
    def form(self) -> str:
        if self.text is not None:
            return "yaml"
        return "policy" if self.document is not None else "preset"


@dataclass(frozen=True, slots=True)
class ParsedPolicy:
    policy: Policy
    text: str


def parse_source(source: PolicySource) -> ParsedPolicy:
    """Validate an upload; documents and presets are stored as their canonical YAML dump."""
    try:
        if source.text is not None:
            return ParsedPolicy(parse_policy_text(source.text), source.text)
        if source.document is not None:
            policy = parse_policy(dict(source.document))
        else:
            data: dict[str, Any] = {"preset": source.preset}
            if source.preset_overrides:
                data["preset_overrides"] = dict(source.preset_overrides)
            policy = parse_policy(data)
    except PolicyValidationError as exc:
        raise InvalidInput(
            "The policy is not valid.", code="invalid_policy", errors=exc.errors
        ) from exc
    text = dump_policy_yaml(policy)
    if len(text) > MAX_DOCUMENT_CHARS:  # what is stored obeys the bound uploaded text obeys
        raise InvalidInput(
            "The policy is too large.",
            code="invalid_policy",
            errors={
                ROOT_PATH: [
                    f"its stored text would be {len(text)} characters; at most {MAX_DOCUMENT_CHARS}"
                ]
            },
        )
    return ParsedPolicy(policy, text)


def checksum_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def upload_policy(
    *, actor: User, world_id: str, source: PolicySource, valid_from: dt.datetime | None = None
) -> WorldPolicy:
    """Store the next version (1, 2, 3… without gaps, under the world's row lock).

    A world with no default policy and `approvals_required == 0` takes its first version as the
    default at once; otherwise the new version is a DRAFT awaiting review.
    """
    parsed = parse_source(source)  # before any lock: invalid uploads touch nothing
    with transaction.atomic():
        world = locked_world(world_id)
        last = WorldPolicy.objects.filter(world=world).aggregate(last=Max("version"))["last"]
        policy = WorldPolicy.objects.create(
            world=world,
            version=(last or 0) + 1,
            yaml=parsed.text,
            document=policy_to_dict(parsed.policy),
            checksum=checksum_of(parsed.text),
            status=PolicyStatus.DRAFT,
            created_by=actor,
            valid_from=valid_from,
        )
        record_audit(
            event="policy_added",
            actor=actor.get_username(),
            world_id=world.id,
            request={"form": source.form, "preset": source.preset, "valid_from": valid_from},
            result={
                "version": policy.version,
                "checksum": policy.checksum,
                "created_at": timezone.now(),
            },
        )
        if world.default_policy_version is None and world.approvals_required == 0:
            activate_version(actor=actor, world=world, policy=policy)
    return policy
