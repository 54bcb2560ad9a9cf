"""`thresholds` of the older form: `{label: {metric, min, max}}`, each a pair of gates.

`metric >= min` and `metric <= max`, all joined by `and`; `metric` may be left out when the label
is the metric name (docs/policy-language.md, "The older form of policies"). Presets hold their
thresholds in the same terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fieldreaders import show

from ..expressions import is_metric_name
from ..model import AllOf, Comparison, Gate, format_number
from ..presets import Threshold
from .reader import DocumentReader


def read_thresholds(read: DocumentReader, value: object, path: str) -> Gate | None:
    section = read.mapping(value, path)
    if section is None:
        return None
    thresholds = [
        _threshold(read, label, entry, read.join_key(path, label))
        for label, entry in section.items()
    ]
    return threshold_gate(threshold for threshold in thresholds if threshold is not None)


def _threshold(read: DocumentReader, label: object, value: object, path: str) -> Threshold | None:
    entry = read.mapping(value, path, required=True)
    if entry is None:
        return None
    read.check_keys(entry, path, ("metric", "min", "max"))
    metric = _metric(read, label, entry, path)
    low = read.number_at(entry, "min", path)
    high = read.number_at(entry, "max", path)
    if entry.get("min") is None and entry.get("max") is None:
        read.add(path, "needs min or max (or both)")
        return None
    if inverted(low, high):
        read.add(
            read.join_key(path, "min"),
            f"min ({format_number(low or 0.0)}) is above max ({format_number(high or 0.0)})",
        )
        return None
    return Threshold(metric=metric, min=low, max=high) if metric is not None else None


def _metric(read: DocumentReader, label: object, entry: Mapping[Any, Any], path: str) -> str | None:
    """The entry's `metric`, or its label when that is a metric name."""
    if entry.get("metric") is not None:
        return read.metric_at(entry, "metric", path)
    if is_metric_name(label):
        return str(label)
    read.add(
        read.join_key(path, "metric"),
        f"is required, as the label {show(label)} is not a metric name",
    )
    return None


def threshold_gate(thresholds: Iterable[Threshold]) -> Gate | None:
    """The thresholds as comparisons joined by `and`; None when there are none."""
    comparisons: list[Comparison] = []
    for threshold in thresholds:
        if threshold.min is not None:
            comparisons.append(Comparison(threshold.metric, ">=", threshold.min))
        if threshold.max is not None:
            comparisons.append(Comparison(threshold.metric, "<=", threshold.max))
    return AllOf(tuple(comparisons)) if comparisons else None


def inverted(low: float | None, high: float | None) -> bool:
    """Whether a lower bound lies above an upper one."""
    return low is not None and high is not None and low > high
