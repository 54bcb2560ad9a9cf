"""Serializer fields that take JSON types as they are: no "yes" for true, no "3" for 3."""

from __future__ import annotations

import json
import math
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from worldservice.clock import rfc3339
from worldservice.limits import MAX_FREEFORM_JSON_BYTES


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A finite JSON number."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        if not math.isfinite(data):
            raise serializers.ValidationError("A finite number is required.")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictRegexField(serializers.RegexField):
    """Text matching a pattern, sent as a JSON string (DRF would read the number 0 as "0")."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        value: str = super().to_internal_value(data)
        return value


class BoundedListField(serializers.ListField):
    """A list whose length is checked before a single item is validated.

    DRF's own `max_length` is checked only after every item was (the work grows with the list).
    """

    def to_internal_value(self, data: Any) -> list[Any]:
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        value: list[Any] = super().to_internal_value(data)
        return value


class BoundedDictField(serializers.DictField):
    """A JSON object with at most `max_items` keys, counted before any value is validated."""

    def __init__(self, *, max_items: int, **kwargs: Any) -> None:
        self.max_items = max_items
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and len(data) > self.max_items:
            raise serializers.ValidationError(
                f"At most {self.max_items} entries (this has {len(data)})."
            )
        value: dict[str, Any] = super().to_internal_value(data)
        return value


def json_size(value: Any) -> int:
    """The size of `value` as compact UTF-8 JSON, the measure of free-form values' limits."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text.encode("utf-8", "surrogatepass"))


class BoundedJSONField(serializers.JSONField):
    """Free-form JSON (stored and echoed as sent), at most `max_bytes` as compact JSON."""

    default_error_messages = {
        "too_large": "Ensure this value is at most {max_bytes} bytes of JSON."
    }

    def __init__(self, *, max_bytes: int = MAX_FREEFORM_JSON_BYTES, **kwargs: Any) -> None:
        self.max_bytes = max_bytes
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if json_size(data) > self.max_bytes:
            self.fail("too_large", max_bytes=self.max_bytes)
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": {}})
class BoundedJSONObjectField(BoundedJSONField):
    """A free-form JSON object (not any JSON value), bounded like `BoundedJSONField`."""

    default_error_messages = {"not_an_object": "Expected a JSON object."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            self.fail("not_an_object")
        return super().to_internal_value(data)


# Marks an output serializer whose JSON has exactly its fields, no others: the schema says
# `additionalProperties: false` (`worldservice.api.schema`). A comment, not a docstring, so the
# mixin adds no description to the serializers' components.
class ClosedShape:
    pass


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know: a typo must not be silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        self.check_keys(data)
        return super().to_internal_value(data)

    def check_keys(self, data: Any) -> None:
        """The body is a JSON object holding only the declared keys."""
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                {"body": [f"Expected a JSON object, got {type(data).__name__}."]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})


class ShapeSerializer(StrictSerializer):
    """Checks only a body's shape: a JSON object, no unknown keys, the required keys present.

    For a body whose rules live in one service module, which checks the values: the declared
    fields describe them for OpenAPI, and the values are handed on as sent (absent optional keys
    are left out, so the service's defaults apply).
    """

    def to_internal_value(self, data: Any) -> Any:
        self.check_keys(data)
        missing = [
            name for name, field in self.fields.items() if field.required and name not in data
        ]
        if missing:
            raise serializers.ValidationError(
                {name: [str(self.fields[name].error_messages["required"])] for name in missing}
            )
        return {name: data[name] for name in self.fields if name in data}


class WireTimeField(serializers.DateTimeField):
    """An output time as the wire carries it: UTC RFC 3339 with `Z` (docs/api.md,
    "Validation"); `seconds=True` drops the fraction, as envelopes and worlds do."""

    def __init__(self, *, seconds: bool = False, **kwargs: Any) -> None:
        self.seconds = seconds
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return rfc3339(value, seconds=self.seconds)


class BlankAsNullCharField(serializers.CharField):
    """Output text whose blank stored value means "none": rendered as null."""

    def to_representation(self, value: Any) -> Any:
        return str(value) if value else None
