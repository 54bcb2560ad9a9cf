"""Identifier fields (docs/contract.md#conventions): strategy ids, sides, run ids."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from worldservice.api.fields import StrictRegexField
from worldservice.clock import TIME_HINT, parse_rfc3339, rfc3339

STRATEGY_ID_REGEX = r"^[^\s|]{1,128}$"
RUN_ID_REGEX = r"^[A-Za-z0-9_.:-]{1,128}$"
SIDES = ("long", "short")


def strategy_id_field(**kwargs: Any) -> StrictRegexField:
    return StrictRegexField(
        STRATEGY_ID_REGEX,
        max_length=128,
        error_messages={"invalid": "A strategy id is 1-128 characters without whitespace or '|'."},
        **kwargs,
    )


def run_id_field(**kwargs: Any) -> StrictRegexField:
    return StrictRegexField(
        RUN_ID_REGEX,
        max_length=128,
        error_messages={"invalid": "A run id is 1-128 characters of A-Z a-z 0-9 _ . : -."},
        **kwargs,
    )


@extend_schema_field(OpenApiTypes.DATETIME)
class RFC3339Field(serializers.Field):
    """An RFC 3339 time with an offset (naive times are refused, not guessed)."""

    default_error_messages = {"invalid": TIME_HINT}

    def to_internal_value(self, data: object) -> object:
        moment = parse_rfc3339(data) if isinstance(data, str) else None
        if moment is None:
            self.fail("invalid")
        return moment

    def to_representation(self, value: object) -> object:
        return rfc3339(value)  # type: ignore[arg-type]
