"""Wire shapes of policy versions and reviews."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from policies.dsl.limits import MAX_PRESET_OVERRIDES
from policies.models import PresetMode, WorldPolicy
from policies.models.versions import MAX_PRESET_VERSION_CHARS
from policies.selectors import approval_state
from worlds.api.serializers import ReviewOutSerializer, ReviewSerializer, review_json
from worldservice.api.fields import (
    BoundedDictField,
    ClosedShape,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    WireTimeField,
)
from worldservice.api.identifiers import RFC3339Field
from worldservice.limits import MAX_VERSION

# Reviews have one shape for policy versions and world changes (`worlds.api.serializers`).
__all__ = ["ReviewOutSerializer", "ReviewSerializer", "review_json"]
UPLOAD_FORMS = ("yaml", "policy", "preset")
PRESET_DETAILS = ("preset_overrides", "preset_mode", "preset_version")


def version_summary_json(policy: WorldPolicy) -> dict[str, Any]:
    return dict(VersionSummaryOutSerializer(policy).data)


def version_json(policy: WorldPolicy) -> dict[str, Any]:
    return dict(VersionOutSerializer(policy).data)


class PolicyUploadSerializer(StrictSerializer):
    """Exactly one of `yaml`, `policy` or `preset`.

    With `preset` also `preset_overrides`, `preset_mode` and `preset_version`; `null` for any of
    these three means "not given", as the existing CLI sends them
    (docs/contract.md#what-the-existing-gateway-sends).
    """

    yaml = StrictCharField(required=False, trim_whitespace=False, allow_blank=True)
    policy = serializers.DictField(required=False)
    preset = StrictCharField(required=False)
    preset_overrides = BoundedDictField(
        max_items=MAX_PRESET_OVERRIDES,
        required=False,
        allow_null=True,
        help_text=f'At most {MAX_PRESET_OVERRIDES} entries, e.g. {{"sharpe.min": 1.2}}.',
    )
    preset_mode = serializers.ChoiceField(
        choices=PresetMode.choices,
        required=False,
        allow_null=True,
        help_text="How the preset was applied (metadata only).",
    )
    preset_version = StrictCharField(
        required=False,
        allow_null=True,
        max_length=MAX_PRESET_VERSION_CHARS,
        help_text="The client's version label of the preset (metadata only).",
    )
    valid_from = RFC3339Field(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = _without_not_given(attrs)
        _require_one_form(attrs)
        _refuse_preset_details_without_preset(attrs)
        return attrs


def _without_not_given(attrs: dict[str, Any]) -> dict[str, Any]:
    """The preset details sent as null are "not given" (the existing CLI sends them so)."""
    return {
        key: value for key, value in attrs.items() if key not in PRESET_DETAILS or value is not None
    }


def _require_one_form(attrs: dict[str, Any]) -> None:
    if sum(form in attrs for form in UPLOAD_FORMS) != 1:
        raise serializers.ValidationError(
            {"body": ["Send exactly one of 'yaml', 'policy' or 'preset'."]}
        )


def _refuse_preset_details_without_preset(attrs: dict[str, Any]) -> None:
    if "preset" in attrs:
        return
    stray = [key for key in PRESET_DETAILS if key in attrs]
    if stray:
        raise serializers.ValidationError(
            {key: ["Only meaningful together with 'preset'."] for key in stray}
        )


class SetDefaultSerializer(StrictSerializer):
    version = StrictIntegerField(min_value=1, max_value=MAX_VERSION, required=False)


# The one place that shapes a version's JSON (`version_summary_json`, `version_json`).
class VersionSummaryOutSerializer(ClosedShape, serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    checksum = serializers.CharField()
    created_by = serializers.CharField(source="created_by.username")
    created_at = WireTimeField()
    approved = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_approved(self, policy: WorldPolicy) -> bool:
        return approval_state(policy, required=policy.world.approvals_required).approved


class VersionOutSerializer(VersionSummaryOutSerializer):
    world_id = serializers.CharField()
    yaml = serializers.CharField()
    policy = serializers.JSONField(source="document")
    valid_from = WireTimeField(allow_null=True)
    approvals = ReviewOutSerializer(many=True)
    preset = serializers.CharField(
        allow_null=True, help_text="The preset the version was made from, else null."
    )
    preset_mode = serializers.ChoiceField(
        choices=PresetMode.choices, allow_null=True, help_text="As the uploader sent it."
    )
    preset_version = serializers.CharField(allow_null=True, help_text="As the uploader sent it.")
    preset_overrides = serializers.DictField(
        allow_null=True, help_text="The overrides applied to the preset, else null."
    )


class UploadOutSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    status = serializers.CharField()
    checksum = serializers.CharField()


class DiffOutSerializer(serializers.Serializer):
    diff = serializers.CharField()
