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
    load_document,
    parse_policy,
    policy_to_dict,
)
from policies.dsl.limits import MAX_DOCUMENT_CHARS
from policies.models import PolicyStatus, WorldPolicy
from policies.services.activation import activate_version
from worlds.audit import record_audit
from worlds.services.lookup import locked_world
from worldservice.api.errors import InvalidInput
from worldservice.canonical import json_safe


@dataclass(frozen=True, slots=True)
class PolicySource:
    """What was uploaded: exact text, a document, or a preset with overrides.

    `preset_mode` and `preset_version` are what the client says about how it applied the
    preset; they are recorded with the version and change nothing in the policy.
    """

    text: str | None = None
    document: Mapping[str, Any] | None = None
    preset: str | None = None
    preset_overrides: Mapping[str, Any] | None = None
    preset_mode: str | None = None
    preset_version: str | None = None

    @property
    def form(self) -> str:
        if self.text is not None:
            return "yaml"
        return "policy" if self.document is not None else "preset"


@dataclass(frozen=True, slots=True)
class ParsedPolicy:
    """A valid upload: the policy, the text to store, and the preset it names (if any)."""

    policy: Policy
    text: str
    preset: str | None = None
    preset_overrides: dict[str, Any] | None = None


def _document(source: PolicySource) -> dict[str, Any]:
    if source.text is not None:
        return load_document(source.text)
    if source.document is not None:
        return dict(source.document)
    data: dict[str, Any] = {"preset": source.preset}
    if source.preset_overrides:
        data["preset_overrides"] = dict(source.preset_overrides)
    return data


def parse_source(source: PolicySource) -> ParsedPolicy:
    """Validate an upload; documents and presets are stored as their canonical YAML dump.

    The preset (name and overrides) is read from the document, so a YAML or JSON document
    that starts from a preset records it just like the `preset` form does.
    """
    try:
        data = _document(source)
        policy = parse_policy(data)
    except PolicyValidationError as exc:
        raise InvalidInput(
            "The policy is not valid.", code="invalid_policy", errors=exc.errors
        ) from exc
    text = source.text if source.text is not None else dump_policy_yaml(policy)
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
    overrides = data.get("preset_overrides")
    return ParsedPolicy(
        policy,
        text,
        preset=data.get("preset"),
        preset_overrides=json_safe(dict(overrides)) if overrides else None,
    )


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
            preset=parsed.preset,
            preset_mode=source.preset_mode if parsed.preset else None,
            preset_version=source.preset_version if parsed.preset else None,
            preset_overrides=parsed.preset_overrides,
        )
        record_audit(
            event="policy_added",
            actor=actor.get_username(),
            world_id=world.id,
            request={
                "form": source.form,
                "preset": parsed.preset,
                "preset_mode": policy.preset_mode,
                "preset_version": policy.preset_version,
                "preset_overrides": parsed.preset_overrides,
                "valid_from": valid_from,
            },
            result={
                "version": policy.version,
                "checksum": policy.checksum,
                "created_at": timezone.now(),
            },
        )
        if world.default_policy_version is None and world.approvals_required == 0:
            activate_version(actor=actor, world=world, policy=policy)
    return policy
