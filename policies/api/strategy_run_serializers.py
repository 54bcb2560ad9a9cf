"""Wire shapes of a strategy's evaluation runs (docs/api.md#a-strategys-evaluation-runs).

Field names follow the existing Gateway's SDK where it reads them: `summary.status` and
`metrics` (it takes a run as ready once either is set, so both stay null until the run
completed), `stage`, `created_at`, `updated_at`; it treats a top-level `error` key as a failed
request, so a run's own failure is `run_error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from policies.api.decide_serializers import HistoryEntryOutSerializer
from policies.models import EvaluationRun, EvaluationStatus
from worldservice.api.fields import BlankAsNullCharField, WireTimeField
from worldservice.api.identifiers import SIDES
from worldservice.clock import rfc3339

if TYPE_CHECKING:
    from policies.selectors import StrategyRun, StrategyRunHistory, StrategyRunInputs

DEFAULT_SIDE = "long"


def _completed_part(run: StrategyRun) -> dict[str, Any] | None:
    if run.status != EvaluationStatus.COMPLETED or not isinstance(run.part, dict):
        return None
    return run.part


def _summary_status(run: EvaluationRun, part: dict[str, Any] | None) -> str | None:
    """The strategy's outcome once the run completed, `failed` for a failed run, else null."""
    if part is not None:
        status = part.get("status")
        return status if isinstance(status, str) else None
    return "failed" if run.status == EvaluationStatus.FAILED else None


def _metrics_as_sent(run: StrategyRun) -> dict[str, Any] | None:
    """The strategy's metrics entry without its `side`; null when it had none."""
    if not isinstance(run.metrics, dict):
        return None
    return {name: value for name, value in run.metrics.items() if name != "side"}


def history_status(run: StrategyRunHistory) -> str:
    """`recorded` (the copy is shown), `none` (the strategy had no entry as of the run), or
    `not_recorded` (the run was not carried out, or was before runs kept copies)."""
    if isinstance(run.entry, dict):
        return "recorded"
    return "none" if run.snapshot_taken else "not_recorded"


def _got(run: StrategyRun) -> dict[str, Any]:
    """The strategy's part of a completed run, else nothing."""
    return _completed_part(run) or {}


RUN_STATUSES = EvaluationStatus.values
HISTORY_STATUSES = ("recorded", "none", "not_recorded")


class GateOutSerializer(serializers.Serializer):
    rule = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="Null when the metric is missing.")
    passed = serializers.BooleanField()
    missing = serializers.BooleanField(
        required=False, help_text="Present (true) when the metric was missing and reported."
    )


class HysteresisOutSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["PROMOTE", "DEMOTE", "HOLD"])
    consecutive_pass = serializers.IntegerField()
    consecutive_fail = serializers.IntegerField()
    dwell_seconds = serializers.IntegerField(allow_null=True)


class RunSummaryOutSerializer(serializers.Serializer):
    status = serializers.CharField(
        allow_null=True,
        help_text="The strategy's `status` once the run completed, `failed` for a failed run, "
        "null while it is pending (the existing SDK polls until this is set).",
    )


class StrategyRunIdsSerializer(serializers.Serializer):
    """The ids every answer about a strategy's run starts with; the strategy is the context's
    `strategy_id` (the one asked about)."""

    world_id = serializers.CharField()
    strategy_id = serializers.SerializerMethodField()
    run_id = serializers.CharField()
    evaluation_run_id = serializers.CharField(source="run_id", help_text="The same as `run_id`.")
    run_status = serializers.ChoiceField(source="status", choices=RUN_STATUSES)

    @extend_schema_field(serializers.CharField())
    def get_strategy_id(self, run: EvaluationRun) -> str:
        strategy_id: str = self.context["strategy_id"]
        return strategy_id


# Values out of the stored result are sent as stored (method fields do not convert them: a score
# of 2 stays 2); `extend_schema_field` gives the schema their types.
class StrategyRunOutSerializer(StrategyRunIdsSerializer):
    """The strategy's part of one run."""

    status = serializers.SerializerMethodField(
        help_text="The strategy's outcome (gates and sample); null until the run completed."
    )
    summary = serializers.SerializerMethodField()
    side = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()
    rank = serializers.SerializerMethodField()
    selected = serializers.SerializerMethodField(
        help_text="It survived top-k and the correlation limit."
    )
    weight = serializers.SerializerMethodField(
        help_text="Its weight in the run's active set; null when not in it."
    )
    active = serializers.SerializerMethodField(
        help_text="In the run's active set (null until completed)."
    )
    gates = serializers.SerializerMethodField(help_text="Each comparison of the gates, in order.")
    hysteresis = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField(
        help_text="The metrics it was evaluated on (as `…/metrics` shows them); null until the "
        "run completed, or when it had none (a previously active strategy)."
    )
    policy_version = serializers.IntegerField(
        allow_null=True, help_text="Null for an inline policy."
    )
    as_of = WireTimeField(help_text="The moment evaluated.")
    stage = serializers.CharField(allow_null=True, help_text="As sent to evaluate.")
    created_at = WireTimeField()
    completed_at = WireTimeField(allow_null=True)
    updated_at = serializers.SerializerMethodField(help_text="`completed_at`, else `created_at`.")
    run_error = BlankAsNullCharField(
        source="error", allow_null=True, help_text="Why a failed run failed."
    )

    @extend_schema_field(
        serializers.ChoiceField(choices=["pass", "fail", "insufficient"], allow_null=True)
    )
    def get_status(self, run: StrategyRun) -> Any:
        return _got(run).get("status")

    @extend_schema_field(RunSummaryOutSerializer())
    def get_summary(self, run: StrategyRun) -> dict[str, Any]:
        return {"status": _summary_status(run, _completed_part(run))}

    @extend_schema_field(serializers.ChoiceField(choices=SIDES, allow_null=True))
    def get_side(self, run: StrategyRun) -> Any:
        return _got(run).get("side")

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_score(self, run: StrategyRun) -> Any:
        return _got(run).get("score")

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_rank(self, run: StrategyRun) -> Any:
        return _got(run).get("rank")

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_selected(self, run: StrategyRun) -> Any:
        return _got(run).get("selected")

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_weight(self, run: StrategyRun) -> Any:
        return _got(run).get("weight")

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_active(self, run: StrategyRun) -> bool | None:
        part = _completed_part(run)
        return part.get("weight") is not None if part is not None else None

    @extend_schema_field(GateOutSerializer(many=True))
    def get_gates(self, run: StrategyRun) -> Any:
        return _got(run).get("gates", [])

    @extend_schema_field(HysteresisOutSerializer(allow_null=True))
    def get_hysteresis(self, run: StrategyRun) -> Any:
        return _got(run).get("hysteresis")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_reasons(self, run: StrategyRun) -> Any:
        return _got(run).get("reasons", [])

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_metrics(self, run: StrategyRun) -> dict[str, Any] | None:
        return _metrics_as_sent(run) if _completed_part(run) is not None else None

    @extend_schema_field(serializers.DateTimeField())
    def get_updated_at(self, run: StrategyRun) -> str:
        return rfc3339(run.completed_at or run.created_at)


class StrategyRunMetricsOutSerializer(StrategyRunIdsSerializer):
    """The metrics (and return series) the run evaluated the strategy on, as they were sent."""

    policy_version = serializers.IntegerField(allow_null=True)
    as_of = WireTimeField()
    stage = serializers.CharField(allow_null=True)
    side = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField(
        help_text="As sent (non-finite numbers as the strings NaN, Infinity, -Infinity); null "
        "when the strategy had no metrics in the run (it was previously active)."
    )
    series = serializers.SerializerMethodField(help_text="As sent, else null.")
    created_at = WireTimeField()

    @extend_schema_field(serializers.ChoiceField(choices=SIDES))
    def get_side(self, run: StrategyRunInputs) -> Any:
        entry = run.metrics if isinstance(run.metrics, dict) else {}
        return entry.get("side") or DEFAULT_SIDE

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_metrics(self, run: StrategyRunInputs) -> dict[str, Any] | None:
        return _metrics_as_sent(run)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_series(self, run: StrategyRunInputs) -> Any:
        return run.series if isinstance(run.series, dict) else None


class StrategyRunHistoryOutSerializer(StrategyRunIdsSerializer):
    """The history entry the run evaluated the strategy against."""

    as_of = WireTimeField()
    history_status = serializers.SerializerMethodField(
        help_text="recorded: `entry` is the copy the run kept. none: the strategy had no entry "
        "as of the run. not_recorded: the run was not carried out, or was carried out before "
        "runs kept copies."
    )
    entry = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=HISTORY_STATUSES))
    def get_history_status(self, run: StrategyRunHistory) -> str:
        return history_status(run)

    @extend_schema_field(HistoryEntryOutSerializer(allow_null=True))
    def get_entry(self, run: StrategyRunHistory) -> Any:
        # The copy as the run kept it, not re-rendered: it is what the strategy was judged on.
        return run.entry if history_status(run) == "recorded" else None
