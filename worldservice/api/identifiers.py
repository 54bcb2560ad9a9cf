"""Identifier fields of the contract (§0): strategy ids, sides, run ids."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

STRATEGY_ID_REGEX = r"^[^\s|]{1,128}$"
RUN_ID_REGEX = r"^[A-Za-z0-9_.:-]{1,128}$"
SIDES = ("long", "short")


def strategy_id_field(**kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        STRATEGY_ID_REGEX,
        max_length=128,
        error_messages={"invalid": "A strategy id is 1-128 characters without whitespace or '|'."},
        **kwargs,
    )


def run_id_field(**kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        RUN_ID_REGEX,
        max_length=128,
        error_messages={"invalid": "A run id is 1-128 characters of A-Z a-z 0-9 _ . : -."},
        **kwargs,
    )


@extend_schema_field(OpenApiTypes.DATETIME)
class RFC3339Field(serializers.Field):
    """An RFC 3339 time with an offset (naive times are refused, not guessed)."""

    default_error_messages = {"invalid": "Expected an RFC 3339 time such as 2025-08-28T09:00:00Z."}

    def to_internal_value(self, data: object) -> object:
        from worldservice.clock import parse_rfc3339

        moment = parse_rfc3339(data) if isinstance(data, str) else None
        if moment is None:
            self.fail("invalid")
        return moment

    def to_representation(self, value: object) -> object:
        from worldservice.clock import rfc3339

        return rfc3339(value)  # type: ignore[arg-type]
