"""From a `Policy` back to the canonical document of the current language.

The canonical document is what a preset or JSON upload is stored as, and what the admin shows: only
the current language (no `thresholds`/`top_k`/`preset`), durations in their largest whole unit,
gates as explicit `and`/`or` mappings, scores in canonical expression text, keys sorted. For every
policy `p` that `parse_policy` returns, `parse_policy(policy_to_dict(p)) == p`.
"""

from __future__ import annotations

from typing import Any

import yaml

from .durations import format_duration
from .loader import PolicyDumper
from .model import (
    AllOf,
    Comparison,
    Constraints,
    ExpressionScore,
    Gate,
    Hysteresis,
    Policy,
    Score,
    Selection,
    TopK,
)

_EXACT_INTEGER_LIMIT = 2**53


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """The canonical current-language document of `policy`: JSON-safe, keys sorted."""
    document: dict[str, Any] = {}
    data_currency = _without_none(
        max_lag=_duration(policy.data_currency.max_lag_seconds),
        min_history=_duration(policy.data_currency.min_history_seconds),
    )
    if data_currency:
        document["data_currency"] = data_currency
    sample = _without_none(
        min_days=_number(policy.sample.min_days),
        min_trades=_number(policy.sample.min_trades),
        min_bars=_number(policy.sample.min_bars),
    )
    if sample:
        document["sample"] = sample
    selection = _selection(policy.selection)
    if selection:
        document["selection"] = selection
    document["validation"] = {"on_missing_metric": policy.validation.on_missing_metric}
    return _sorted_mapping(document)


def dump_policy_yaml(policy: Policy) -> str:
    """The canonical YAML text of `policy` (the stored text of `policy` and `preset` uploads)."""
    return yaml.dump(
        policy_to_dict(policy),
        Dumper=PolicyDumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )


def gate_to_data(gate: Gate) -> str | dict[str, list[Any]]:
    """A gate as it is written in a document: a comparison string or `{and|or: [...]}`."""
    if isinstance(gate, Comparison):
        return str(gate)
    key = "and" if isinstance(gate, AllOf) else "or"
    return {key: [gate_to_data(child) for child in gate.children]}


def score_to_data(score: Score) -> str | dict[str, dict[str, Any]]:
    """A score as it is written in a document: expression text or `{weights: {...}}`."""
    if isinstance(score, ExpressionScore):
        return score.source
    return {"weights": {metric: _number(weight) for metric, weight in score.weights}}


def _selection(selection: Selection) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if selection.gates is not None:
        result["gates"] = gate_to_data(selection.gates)
    if selection.score is not None:
        result["score"] = score_to_data(selection.score)
    if selection.topk is not None:
        result["topk"] = _topk(selection.topk)
    constraints = _constraints(selection.constraints)
    if constraints:
        result["constraints"] = constraints
    if selection.hysteresis is not None:
        result["hysteresis"] = _hysteresis(selection.hysteresis)
    return result


def _topk(topk: TopK) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if topk.total is not None:
        result["total"] = topk.total
    if topk.by_side:
        result["by_side"] = dict(topk.by_side)
    return result


def _constraints(constraints: Constraints) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if constraints.correlation is not None:
        result["correlation"] = {
            "max_pairwise": _number(constraints.correlation.max_pairwise),
        }
    if constraints.exposure is not None:
        exposure: dict[str, Any] = {}
        if constraints.exposure.gross_budget:
            exposure["gross_budget"] = {
                side: _number(budget) for side, budget in constraints.exposure.gross_budget
            }
        if constraints.exposure.max_weight is not None:
            exposure["max_weight"] = _number(constraints.exposure.max_weight)
        result["exposure"] = exposure
    return result


def _hysteresis(hysteresis: Hysteresis) -> dict[str, Any]:
    result: dict[str, Any] = {
        "promote_after": hysteresis.promote_after,
        "demote_after": hysteresis.demote_after,
        "min_dwell": format_duration(hysteresis.min_dwell_seconds),
    }
    if hysteresis.bands is not None:
        result["bands"] = {
            "metric": hysteresis.bands.metric,
            "enter": _number(hysteresis.bands.enter),
            "exit": _number(hysteresis.bands.exit),
        }
    return result


def _number(value: float | None) -> int | float | None:
    """Whole numbers as integers (`30`, not `30.0`), which read back as the same float."""
    if value is None:
        return None
    if float(value).is_integer() and abs(value) < _EXACT_INTEGER_LIMIT:
        return int(value)
    return float(value)


def _duration(seconds: int | None) -> str | None:
    return None if seconds is None else format_duration(seconds)


def _without_none(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _sorted_mapping(mapping: dict[str, Any]) -> dict[str, Any]:
    return {key: _sorted(mapping[key]) for key in sorted(mapping)}


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return _sorted_mapping(value)
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value
