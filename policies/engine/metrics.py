"""Reading one metric of one strategy.

A metrics map may nest: `{"returns": {"sharpe": 1.2}}`. A name is looked up as follows:

1. the name as a key of the map (a literal key may itself contain dots:
   `{"alpha_performance.sharpe": 0.4}`);
2. the name as a dotted path through nested maps (`returns.sharpe`);
3. the name as the unique dotted *suffix* of one leaf path (`sharpe` finds `returns.sharpe` when
   no other leaf path ends in `.sharpe`). Two or more candidates are ambiguous: the metric is
   missing rather than picked at random.

Values the engine computes itself (the `alpha_performance.*` keys from a return series) sit in an
overlay that wins over the map but answers only to its exact names: adding a series never makes a
leaf name such as `sharpe` ambiguous.

A value is usable only when it is a finite real number that is not a boolean. NaN, ±inf, None,
strings, booleans, maps and lists are *missing*.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from numbers import Real
from typing import Final

_ABSENT: Final = object()


def as_metric_value(raw: object) -> float | None:
    """The number a raw metric value stands for, or None when it counts as missing."""
    if isinstance(raw, float):  # the common case first
        return float(raw) if math.isfinite(raw) else None
    if isinstance(raw, bool) or not isinstance(raw, Real | Decimal):
        return None
    try:
        number = float(raw)
    except (OverflowError, ValueError):  # an int too large for a float, a signalling NaN
        return None
    return number if math.isfinite(number) else None


class MetricView:
    """Name lookups on one strategy's metrics map, with an optional overlay that wins."""

    __slots__ = ("_flat", "_metrics", "_overlay")

    def __init__(
        self, metrics: Mapping[str, object], overlay: Mapping[str, float] | None = None
    ) -> None:
        self._metrics = metrics
        self._overlay = overlay
        self._flat: dict[str, object] | None = None

    def get(self, name: str) -> float | None:
        """The usable value of `name`, or None when it is absent, ambiguous or not a number."""
        overlay = self._overlay
        if overlay is not None and name in overlay:
            return as_metric_value(overlay[name])
        raw = self._metrics.get(name, _ABSENT)
        if raw is not _ABSENT:
            return None if isinstance(raw, Mapping) else as_metric_value(raw)
        flat = self._flattened()
        if name in flat:
            return as_metric_value(flat[name])
        suffix = "." + name
        found: object = _ABSENT
        for path, value in flat.items():
            if path.endswith(suffix):
                if found is not _ABSENT:
                    return None  # ambiguous
                found = value
        return None if found is _ABSENT else as_metric_value(found)

    def _flattened(self) -> dict[str, object]:
        flat = self._flat
        if flat is None:
            flat = {}
            _flatten_into(flat, "", self._metrics)
            self._flat = flat
        return flat


def _flatten_into(flat: dict[str, object], prefix: str, metrics: Mapping[str, object]) -> None:
    for key, value in metrics.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten_into(flat, path + ".", value)
        else:
            flat.setdefault(path, value)
