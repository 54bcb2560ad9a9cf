"""Wire shapes of a strategy's evaluation runs (docs/api.md#a-strategys-evaluation-runs).

Field names follow the existing Gateway's SDK where it reads them: `summary.status` and
`metrics` (it takes a run as ready once either is set, so both stay null until the run
completed), `stage`, `created_at`, `updated_at`; it treats a top-level `error` key as a failed
request, so a run's own failure is `run_error`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework import serializers

from policies.api.decide_serializers import HistoryEntryOutSerializer
from policies.models import EvaluationRun, EvaluationStatus
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


def _run_ids(run: EvaluationRun, strategy_id: str) -> dict[str, Any]:
    return {
        "world_id": run.world_id,
        "strategy_id": strategy_id,
        "run_id": run.run_id,
        "evaluation_run_id": run.run_id,
        "run_status": run.status,
    }


def strategy_run_json(run: StrategyRun, strategy_id: str) -> dict[str, Any]:
    """The strategy's part of one run."""
    part = _completed_part(run)
    got = part or {}
    weight = got.get("weight")
    return {
        **_run_ids(run, strategy_id),
        "status": got.get("status"),
        "summary": {"status": _summary_status(run, part)},
        "side": got.get("side"),
        "score": got.get("score"),
        "rank": got.get("rank"),
        "selected": got.get("selected"),
        "weight": weight,
        "active": (weight is not None) if part is not None else None,
        "gates": got.get("gates", []),
        "hysteresis": got.get("hysteresis"),
        "reasons": got.get("reasons", []),
        "metrics": _metrics_as_sent(run) if part is not None else None,
        "policy_version": run.policy_version,
        "as_of": rfc3339(run.as_of),
        "stage": run.stage,
        "created_at": rfc3339(run.created_at),
        "completed_at": rfc3339(run.completed_at) if run.completed_at else None,
        "updated_at": rfc3339(run.completed_at or run.created_at),
        "run_error": run.error or None,
    }


def strategy_run_metrics_json(run: StrategyRunInputs, strategy_id: str) -> dict[str, Any]:
    """The metrics (and return series) the run evaluated the strategy on, as they were sent."""
    entry = run.metrics if isinstance(run.metrics, dict) else None
    return {
        **_run_ids(run, strategy_id),
        "policy_version": run.policy_version,
        "as_of": rfc3339(run.as_of),
        "stage": run.stage,
        "side": (entry or {}).get("side") or DEFAULT_SIDE,
        "metrics": _metrics_as_sent(run),
        "series": run.series if isinstance(run.series, dict) else None,
        "created_at": rfc3339(run.created_at),
    }


def history_status(run: StrategyRunHistory) -> str:
    """`recorded` (the copy is shown), `none` (the strategy had no entry as of the run), or
    `not_recorded` (the run was not carried out, or was before runs kept copies)."""
    if isinstance(run.entry, dict):
        return "recorded"
    return "none" if run.snapshot_taken else "not_recorded"


def strategy_run_history_json(run: StrategyRunHistory, strategy_id: str) -> dict[str, Any]:
    """The history entry the run evaluated the strategy against."""
    status = history_status(run)
    return {
        **_run_ids(run, strategy_id),
        "as_of": rfc3339(run.as_of),
        "history_status": status,
        "entry": run.entry if status == "recorded" else None,
    }


# --- OpenAPI shapes ------------------------------------------------------------------------------

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
    world_id = serializers.CharField()
    strategy_id = serializers.CharField()
    run_id = serializers.CharField()
    evaluation_run_id = serializers.CharField(help_text="The same as `run_id`.")
    run_status = serializers.ChoiceField(choices=RUN_STATUSES)


class StrategyRunOutSerializer(StrategyRunIdsSerializer):
    status = serializers.ChoiceField(
        choices=["pass", "fail", "insufficient"],
        allow_null=True,
        help_text="The strategy's outcome (gates and sample); null until the run completed.",
    )
    summary = RunSummaryOutSerializer()
    side = serializers.ChoiceField(choices=["long", "short"], allow_null=True)
    score = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    selected = serializers.BooleanField(
        allow_null=True, help_text="It survived top-k and the correlation limit."
    )
    weight = serializers.FloatField(
        allow_null=True, help_text="Its weight in the run's active set; null when not in it."
    )
    active = serializers.BooleanField(
        allow_null=True, help_text="In the run's active set (null until completed)."
    )
    gates = GateOutSerializer(many=True, help_text="Each comparison of the gates, in order.")
    hysteresis = HysteresisOutSerializer(allow_null=True)
    reasons = serializers.ListField(child=serializers.CharField())
    metrics = serializers.DictField(
        allow_null=True,
        help_text="The metrics it was evaluated on (as `…/metrics` shows them); null until the "
        "run completed, or when it had none (a previously active strategy).",
    )
    policy_version = serializers.IntegerField(
        allow_null=True, help_text="Null for an inline policy."
    )
    as_of = serializers.DateTimeField(help_text="The moment evaluated.")
    stage = serializers.CharField(allow_null=True, help_text="As sent to evaluate.")
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField(help_text="`completed_at`, else `created_at`.")
    run_error = serializers.CharField(allow_null=True, help_text="Why a failed run failed.")


class StrategyRunMetricsOutSerializer(StrategyRunIdsSerializer):
    policy_version = serializers.IntegerField(allow_null=True)
    as_of = serializers.DateTimeField()
    stage = serializers.CharField(allow_null=True)
    side = serializers.ChoiceField(choices=["long", "short"])
    metrics = serializers.DictField(
        allow_null=True,
        help_text="As sent (non-finite numbers as the strings NaN, Infinity, -Infinity); null "
        "when the strategy had no metrics in the run (it was previously active).",
    )
    series = serializers.DictField(allow_null=True, help_text="As sent, else null.")
    created_at = serializers.DateTimeField()


class StrategyRunHistoryOutSerializer(StrategyRunIdsSerializer):
    as_of = serializers.DateTimeField()
    history_status = serializers.ChoiceField(
        choices=HISTORY_STATUSES,
        help_text="recorded: `entry` is the copy the run kept. none: the strategy had no entry "
        "as of the run. not_recorded: the run was not carried out, or was carried out before "
        "runs kept copies.",
    )
    entry = HistoryEntryOutSerializer(allow_null=True)
