"""Wire shapes of policy versions and reviews."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from policies.models import WorldPolicy
from policies.selectors import approval_state
from worldservice.api.fields import StrictCharField, StrictIntegerField, StrictSerializer
from worldservice.api.identifiers import RFC3339Field
from worldservice.clock import rfc3339
from worldservice.limits import MAX_VERSION

UPLOAD_FORMS = ("yaml", "policy", "preset")


def review_json(review: Any) -> dict[str, Any]:
    return {
        "user": review.user.get_username(),
        "decision": review.decision,
        "comment": review.comment,
        "at": rfc3339(review.at),
    }


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
    valid_from = RFC3339Field(required=False, allow_null=True)

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


class ReviewSerializer(StrictSerializer):
    comment = StrictCharField(required=False, allow_blank=True, max_length=10_000, default="")


class SetDefaultSerializer(StrictSerializer):
    version = StrictIntegerField(min_value=1, max_value=MAX_VERSION, required=False)


class VersionSummaryOutSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    checksum = serializers.CharField()
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    approved = serializers.BooleanField()


class ReviewOutSerializer(serializers.Serializer):
    user = serializers.CharField()
    decision = serializers.CharField()
    comment = serializers.CharField()
    at = serializers.DateTimeField()


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
