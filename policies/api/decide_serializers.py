"""Request bodies of bindings, decisions, history and evaluate, and the history read."""

from __future__ import annotations

import math
import re
from typing import Any

from rest_framework import serializers

from policies.engine.alpha_performance import MAX_POINT_MAGNITUDE
from worldservice.api.fields import (
    BoundedDictField,
    BoundedJSONField,
    BoundedListField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)
from worldservice.api.identifiers import (
    SIDES,
    STRATEGY_ID_REGEX,
    RFC3339Field,
    run_id_field,
    strategy_id_field,
)
from worldservice.limits import (
    MAX_CORRELATIONS,
    MAX_METRIC_NAME_CHARS,
    MAX_METRICS_PER_STRATEGY,
    MAX_SERIES_POINTS,
    MAX_STRATEGIES,
    MAX_VERSION,
)

MAX_EXECUTION_DOMAIN_CHARS = 32
SERIES_KEYS = ("returns", "pnl", "equity")
MAX_INTERVAL_CHARS = 64


class BindingsSerializer(StrictSerializer):
    strategies = BoundedListField(child=strategy_id_field(), max_length=MAX_STRATEGIES)


class DecisionsSerializer(StrictSerializer):
    """Trimmed, duplicates dropped keeping order; a blank entry is an error."""

    strategies = BoundedListField(
        child=StrictCharField(trim_whitespace=True, allow_blank=True, max_length=256),
        max_length=MAX_STRATEGIES,
    )

    def validate_strategies(self, values: list[str]) -> list[str]:
        pattern = re.compile(STRATEGY_ID_REGEX)
        errors: dict[Any, list[str]] = {}  # keyed by index, as ListField errors are
        for index, value in enumerate(values):
            if not value:
                errors[index] = ["A strategy id may not be blank."]
            elif not pattern.match(value):
                errors[index] = ["A strategy id is 1-128 characters without whitespace or '|'."]
        if errors:
            raise serializers.ValidationError(errors)
        return list(dict.fromkeys(values))


class HistorySerializer(StrictSerializer):
    """A history entry (docs/contract.md#inputs-of-decide), plus what the existing Gateway also
    sends: `world_id` (must name the path's world; not stored, the entry belongs to that world
    anyway), `updated_at` (stored as `reported_updated_at`) and `execution_domain` (stored
    lower-cased).

    Pass the path's world as `context={"world_id": ...}`.
    """

    strategy_id = strategy_id_field()
    node_id = StrictCharField(max_length=256)
    interval = serializers.JSONField()
    rows = StrictIntegerField(min_value=0, required=False, allow_null=True)
    coverage_bounds = BoundedJSONField(required=False, allow_null=True)
    conformance_flags = BoundedJSONField(required=False, allow_null=True)
    conformance_warnings = BoundedJSONField(required=False, allow_null=True)
    dataset_fingerprint = StrictCharField(max_length=256, required=False, allow_null=True)
    as_of = RFC3339Field(required=False, allow_null=True)
    artifact = BoundedJSONField(required=False, allow_null=True)
    world_id = StrictCharField(
        required=False,
        max_length=64,
        trim_whitespace=False,
        help_text="If sent, the world of the path.",
    )
    updated_at = RFC3339Field(
        required=False, allow_null=True, help_text="The reporter's time of the report."
    )
    execution_domain = StrictCharField(
        required=False,
        allow_null=True,
        max_length=MAX_EXECUTION_DOMAIN_CHARS,
        trim_whitespace=False,
        help_text="backtest, dryrun, live, shadow or another short word; stored lower-cased.",
    )

    def validate_world_id(self, value: str) -> str:
        expected = self.context["world_id"]
        if value != expected:
            raise serializers.ValidationError(
                f"The body names world {value!r}, but the path names {expected!r}."
            )
        return value

    def validate_execution_domain(self, value: str | None) -> str | None:
        return value.lower() if value is not None else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.pop("world_id", None)  # checked against the path; the entry is that world's
        if "updated_at" in attrs:
            attrs["reported_updated_at"] = attrs.pop("updated_at")
        return attrs

    def validate_interval(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | str) or value in ("", None):
            raise serializers.ValidationError(
                "An interval is a number of seconds or text such as '1h'."
            )
        if isinstance(value, str) and len(value) > MAX_INTERVAL_CHARS:
            raise serializers.ValidationError(
                f"An interval is at most {MAX_INTERVAL_CHARS} characters."
            )
        return value


class HistoryEntryOutSerializer(serializers.Serializer):
    """One entry of `GET /worlds/{id}/history` (`policies.history_entries`)."""

    strategy_id = serializers.CharField()
    node_id = serializers.CharField()
    interval = serializers.JSONField()
    rows = serializers.IntegerField(allow_null=True)
    coverage_bounds = serializers.JSONField(allow_null=True)
    conformance_flags = serializers.JSONField(allow_null=True)
    conformance_warnings = serializers.JSONField(allow_null=True)
    dataset_fingerprint = serializers.CharField(allow_null=True)
    as_of = serializers.DateTimeField()
    artifact = serializers.JSONField(allow_null=True)
    execution_domain = serializers.CharField(allow_null=True, help_text="Lower-cased.")
    reported_updated_at = serializers.DateTimeField(
        allow_null=True, help_text="The `updated_at` the reporter sent."
    )
    updated_at = serializers.DateTimeField(help_text="When WorldService stored the entry.")


class HistoryOutSerializer(serializers.Serializer):
    entries = HistoryEntryOutSerializer(many=True, help_text="By `as_of`, then strategy.")
    latest = HistoryEntryOutSerializer(allow_null=True, help_text="The newest entry.")


def _series_problem(points: Any) -> str | None:
    """Why `points` is not a usable series, or None (its length is checked before its items)."""
    if not isinstance(points, list):
        return "A series is a list of numbers."
    if len(points) > MAX_SERIES_POINTS:
        return f"A series has at most {MAX_SERIES_POINTS} points."
    for point in points:
        if point is None:
            continue
        if isinstance(point, bool) or not isinstance(point, int | float):
            return "A series is a list of numbers."
        if math.isfinite(point) and abs(point) > MAX_POINT_MAGNITUDE:  # NaN, ±inf: missing
            return f"A series value is at most {MAX_POINT_MAGNITUDE:g} in magnitude."
    return None


class CorrelationSerializer(StrictSerializer):
    a = strategy_id_field()
    b = strategy_id_field()
    value = serializers.JSONField()


class EvaluateSerializer(StrictSerializer):
    metrics = BoundedDictField(
        max_items=MAX_STRATEGIES,
        child=BoundedDictField(max_items=MAX_METRICS_PER_STRATEGY),
        required=False,
        default=dict,
    )
    series = BoundedDictField(
        max_items=MAX_STRATEGIES,
        child=BoundedDictField(max_items=len(SERIES_KEYS)),
        required=False,
        default=dict,
    )
    # ListSerializer checks `max_length` before validating any item (the stubs omit it).
    correlations = CorrelationSerializer(  # type: ignore[call-arg]
        many=True, required=False, default=list, max_length=MAX_CORRELATIONS
    )
    previous = BoundedListField(
        child=strategy_id_field(), required=False, allow_null=True, max_length=MAX_STRATEGIES
    )
    policy_version = StrictIntegerField(
        min_value=1, max_value=MAX_VERSION, required=False, allow_null=True
    )
    policy = serializers.DictField(required=False, allow_null=True)
    as_of = RFC3339Field(required=False, allow_null=True)
    stage = StrictCharField(required=False, allow_null=True, max_length=32)
    run_id = run_id_field(required=False, allow_null=True)
    simulate = StrictBooleanField(required=False, default=False)

    def validate_metrics(self, metrics: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        pattern = re.compile(STRATEGY_ID_REGEX)
        errors: dict[str, list[str]] = {}
        for strategy_id, values in metrics.items():
            if not pattern.match(strategy_id):
                errors[strategy_id] = ["Not a valid strategy id."]
            elif values.get("side") not in (None, *SIDES):
                errors[f"{strategy_id}.side"] = ["side is long or short."]
            elif any(len(name) > MAX_METRIC_NAME_CHARS for name in values):
                errors[strategy_id] = [
                    f"A metric name is at most {MAX_METRIC_NAME_CHARS} characters."
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return metrics

    def validate_series(self, series: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        errors: dict[str, list[str]] = {}
        for strategy_id, value in series.items():
            unknown = sorted(set(value) - set(SERIES_KEYS))
            if unknown:
                errors[strategy_id] = [
                    f"Unknown series {', '.join(unknown)}; use {', '.join(SERIES_KEYS)}."
                ]
            for key in set(value) & set(SERIES_KEYS):
                problem = _series_problem(value[key])
                if problem:
                    errors[f"{strategy_id}.{key}"] = [problem]
        if errors:
            raise serializers.ValidationError(errors)
        return series

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("policy") is not None and attrs.get("policy_version") is not None:
            raise serializers.ValidationError(
                {"policy": ["Send policy_version or an inline policy, not both."]}
            )
        return attrs
