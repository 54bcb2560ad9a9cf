"""Wire shapes of activation: the override body (strict) and the answers (for OpenAPI)."""

from __future__ import annotations

from rest_framework import serializers

from activation.entries import EFFECTIVE_MODES, SIDES
from activation.override_rules import MAX_REASON_LENGTH, MAX_TTL_SECONDS
from worldservice.api.fields import (
    ClosedShape,
    ShapeSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
)
from worldservice.api.identifiers import run_id_field, strategy_id_field


class ActivationOverrideSerializer(ShapeSerializer):
    """`PUT /worlds/{id}/activation`: unknown keys, wrong types and out-of-range values are 400."""

    # Only the shape is checked here (ShapeSerializer); the values are checked by the override
    # service against `activation.override_rules`, which every caller (API, admin, scripts)
    # meets. The fields describe those rules for OpenAPI, from the same constants.

    strategy_id = strategy_id_field()
    side = serializers.ChoiceField(choices=SIDES)
    active = StrictBooleanField()
    weight = StrictFloatField(min_value=0.0, max_value=1.0, required=False, default=1.0)
    freeze = StrictBooleanField(required=False, default=False)
    drain = StrictBooleanField(required=False, default=False)
    effective_mode = serializers.ChoiceField(
        choices=EFFECTIVE_MODES, allow_null=True, required=False, default=None
    )
    run_id = run_id_field(required=False, allow_null=True, default=None)
    ttl_seconds = StrictIntegerField(
        min_value=1, max_value=MAX_TTL_SECONDS, required=False, allow_null=True, default=None
    )
    reason = StrictCharField(
        required=False, allow_blank=True, max_length=MAX_REASON_LENGTH, default=""
    )


class ActivationEnvelopeSerializer(serializers.Serializer):
    world_id = serializers.CharField()
    strategy_id = serializers.CharField()
    side = serializers.ChoiceField(choices=SIDES)
    active = serializers.BooleanField()
    weight = serializers.FloatField()
    freeze = serializers.BooleanField()
    drain = serializers.BooleanField()
    effective_mode = serializers.ChoiceField(choices=EFFECTIVE_MODES, allow_null=True)
    etag = serializers.CharField(help_text="act:{world}:{strategy}:{side}:{version}")
    run_id = serializers.CharField(allow_null=True)
    ts = serializers.CharField(help_text="RFC 3339, second precision, UTC (Z).")
    expires_at = serializers.CharField(
        allow_null=True, help_text="When a TTL override reverts (RFC 3339), else null."
    )
    state_hash = serializers.CharField(
        allow_null=True, help_text="sha256:<hex> of the whole set at the entry's read."
    )


class ActivationSetSerializer(ClosedShape, serializers.Serializer):
    world_id = serializers.CharField()
    version = serializers.IntegerField()
    state_hash = serializers.CharField()
    entries = ActivationEnvelopeSerializer(many=True)


class ActivationAtSerializer(ActivationSetSerializer):
    at = serializers.CharField(help_text="The time asked for (RFC 3339).")
    policy_version = serializers.IntegerField(
        allow_null=True, help_text="The world's default policy version in force then."
    )
    last_changed_by = serializers.CharField(
        allow_null=True, help_text="Who made the last activation change by then."
    )
    last_changed_at = serializers.CharField(allow_null=True)
