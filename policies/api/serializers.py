"""Wire shapes of policy versions and reviews."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from policies.models import WorldPolicy
from policies.selectors import approval_state
from worlds.api.serializers import ReviewOutSerializer, ReviewSerializer, review_json
from worldservice.api.fields import StrictCharField, StrictIntegerField, StrictSerializer
from worldservice.clock import rfc3339

# Reviews have one shape for policy versions and world changes (`worlds.api.serializers`).
__all__ = ["ReviewOutSerializer", "ReviewSerializer", "review_json"]
UPLOAD_FORMS = ("yaml", "policy", "preset")


def version_summary_json(policy: WorldPolicy) -> dict[str, Any]:
    state = approval_state(policy, required=policy.world.approvals_required)
    return {
        "version": policy.version,
        "status": policy.status,
        "checksum": policy.checksum,
        "created_by": policy.created_by.get_username(),
        "created_at": rfc3339(policy.created_at),
        "approved": state.approved,
    }


def version_json(policy: WorldPolicy) -> dict[str, Any]:
    return {
        "world_id": policy.world_id,
        **version_summary_json(policy),
        "yaml": policy.yaml,
        "policy": policy.document,
        "valid_from": rfc3339(policy.valid_from) if policy.valid_from else None,
        "approvals": [review_json(review) for review in policy.approvals.all()],
    }


class PolicyUploadSerializer(StrictSerializer):
    """Exactly one of `yaml`, `policy` or `preset` (with optional `preset_overrides`)."""

    yaml = StrictCharField(required=False, trim_whitespace=False, allow_blank=True)
    policy = serializers.DictField(required=False)
    preset = StrictCharField(required=False)
    preset_overrides = serializers.DictField(required=False)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [form for form in UPLOAD_FORMS if form in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"body": ["Send exactly one of 'yaml', 'policy' or 'preset'."]}
            )
        if "preset_overrides" in attrs and "preset" not in attrs:
            raise serializers.ValidationError(
                {"preset_overrides": ["Only meaningful together with 'preset'."]}
            )
        return attrs


class SetDefaultSerializer(StrictSerializer):
    version = StrictIntegerField(min_value=1, required=False)


class VersionSummaryOutSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    checksum = serializers.CharField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    approved = serializers.BooleanField()


class VersionOutSerializer(VersionSummaryOutSerializer):
    world_id = serializers.CharField()
    yaml = serializers.CharField()
    policy = serializers.JSONField()
    valid_from = serializers.DateTimeField(allow_null=True)
    approvals = ReviewOutSerializer(many=True)


class UploadOutSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    checksum = serializers.CharField()


class DiffOutSerializer(serializers.Serializer):
    diff = serializers.CharField()
