"""Wire shapes of worlds, members and audit rows."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from worlds.models import (
    WORLD_ID_REGEX,
    World,
    WorldChange,
    WorldChangeStatus,
    WorldState,
)
from worlds.roles import ROLE_LABELS
from worldservice.api.fields import (
    BoundedListField,
    ClosedShape,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictRegexField,
    StrictSerializer,
    WireTimeField,
)

LABEL_REGEX = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}$"
MAX_LABELS = 32
MAX_LABEL_CHARS = 64
READ_ONLY_FIELDS = ("owner", "default_policy_version", "created_at", "updated_at")
IMMUTABLE_FIELDS = ("id", "created_at")


def world_json(world: World) -> dict[str, Any]:
    """The world JSON, as `WorldOutSerializer` renders it."""
    return dict(WorldOutSerializer(world).data)


def review_json(review: Any) -> dict[str, Any]:
    """One reviewer's decision, on a policy version or on a world change."""
    return dict(ReviewOutSerializer(review).data)


def world_change_json(change: WorldChange) -> dict[str, Any]:
    return dict(WorldChangeOutSerializer(change).data)


class WorldFieldsSerializer(StrictSerializer):
    name = StrictCharField(max_length=200)
    description = StrictCharField(
        max_length=10_000, allow_blank=True, required=False, trim_whitespace=False
    )
    labels = BoundedListField(
        child=StrictRegexField(LABEL_REGEX, max_length=MAX_LABEL_CHARS),
        max_length=MAX_LABELS,
        required=False,
    )
    state = serializers.ChoiceField(choices=WorldState.values, required=False)
    allow_live = StrictBooleanField(required=False)
    circuit_breaker = StrictBooleanField(required=False)
    approvals_required = StrictIntegerField(min_value=0, max_value=5, required=False)

    def validate_labels(self, labels: list[str]) -> list[str]:
        return sorted(set(labels))


class WorldCreateSerializer(WorldFieldsSerializer):
    id = StrictRegexField(WORLD_ID_REGEX, max_length=64)

    def to_internal_value(self, data: Any) -> Any:
        read_only = sorted(set(data) & set(READ_ONLY_FIELDS)) if isinstance(data, dict) else []
        if read_only:
            raise serializers.ValidationError(
                {name: ["This field is read-only: the service sets it."] for name in read_only}
            )
        return super().to_internal_value(data)


class WorldUpdateSerializer(WorldFieldsSerializer):
    """PUT/PATCH body. Read-only fields may be echoed back unchanged, never changed."""

    id = StrictCharField(required=False)
    owner = serializers.JSONField(required=False, allow_null=True)
    default_policy_version = serializers.JSONField(required=False, allow_null=True)
    created_at = serializers.JSONField(required=False)
    updated_at = serializers.JSONField(required=False)

    def __init__(self, *args: Any, world: World | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = world_json(world) if world is not None else {}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        for name in ("id", *READ_ONLY_FIELDS):
            if name in attrs and attrs.pop(name) != self.current.get(name):
                verb = "immutable" if name in IMMUTABLE_FIELDS else "read-only"
                errors[name] = [f"This field is {verb}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ReviewSerializer(StrictSerializer):
    comment = StrictCharField(required=False, allow_blank=True, max_length=10_000, default="")


class MemberRoleSerializer(StrictSerializer):
    role = serializers.ChoiceField(choices=ROLE_LABELS)


# The output serializers below are the one place that shapes each answer (`world_json` and the
# other renderers above call them) and its schema; comments, not docstrings, keep the schema's
# descriptions for API readers.
class WorldOutSerializer(ClosedShape, serializers.Serializer):
    """A world."""

    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    owner = serializers.CharField(source="owner.username", allow_null=True)
    labels = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=WorldState.values)
    default_policy_version = serializers.IntegerField(allow_null=True)
    allow_live = serializers.BooleanField()
    circuit_breaker = serializers.BooleanField()
    approvals_required = serializers.IntegerField()
    created_at = WireTimeField(seconds=True)
    updated_at = WireTimeField(seconds=True)


class DescribeOutSerializer(WorldOutSerializer):
    policy = serializers.JSONField(allow_null=True)
    policy_human = serializers.CharField(allow_null=True)
    policy_preset = serializers.CharField(
        allow_null=True, help_text="The preset the default version was made from, else null."
    )
    policy_preset_mode = serializers.CharField(
        allow_null=True,
        help_text="How the uploader applied the preset: shared, clone or extend (metadata "
        "only), else null.",
    )
    policy_preset_version = serializers.CharField(
        allow_null=True, help_text="The uploader's version label of the preset, else null."
    )
    policy_overrides = serializers.DictField(
        allow_null=True, help_text="The overrides applied to the preset, else null."
    )


class StateHashOutSerializer(serializers.Serializer):
    world_id = serializers.CharField()
    topic = serializers.CharField(help_text="The topic asked for.")
    state_hash = serializers.CharField(
        allow_null=True,
        help_text="activation: sha256:<hex> of the whole set. policy: the default version's "
        "checksum, null when the world has none.",
    )
    version = serializers.IntegerField(
        help_text="activation: the set's version. policy: the default version's number, 0 when "
        "the world has none."
    )


class MemberOutSerializer(ClosedShape, serializers.Serializer):
    user = serializers.CharField()
    role = serializers.ChoiceField(choices=ROLE_LABELS)


class ReviewOutSerializer(ClosedShape, serializers.Serializer):
    user = serializers.CharField(source="user.username")
    decision = serializers.CharField(help_text="approve or reject")
    comment = serializers.CharField()
    at = WireTimeField()


class WorldChangeOutSerializer(ClosedShape, serializers.Serializer):
    """A governed world change."""

    id = serializers.IntegerField()
    world_id = serializers.CharField()
    changes = serializers.DictField(
        child=serializers.JSONField(), help_text="The fields it sets, with their new values."
    )
    previous = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Those fields' values when the change was requested.",
    )
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = WireTimeField(seconds=True)
    status = serializers.ChoiceField(choices=WorldChangeStatus.values)
    approvals = ReviewOutSerializer(many=True)
    approvals_required = serializers.IntegerField(
        help_text="The world's approvals_required when the change was requested."
    )
    decided_at = WireTimeField(
        seconds=True, allow_null=True, help_text="When it was applied, rejected or withdrawn."
    )


class VerifyOutSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    checked = serializers.IntegerField()
    broken = serializers.JSONField(required=False)
