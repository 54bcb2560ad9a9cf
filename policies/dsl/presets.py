"""The named presets of the existing WorldService form (`preset: conservative`).

A preset is a starting policy: thresholds joined by `and`, a ranking metric with a top-k count, a
correlation ceiling and hysteresis bands. `preset_overrides` changes single values of it before it
is normalised; the keys are described in `OVERRIDE_KEYS` and in docs/policy-language.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .model import Bands


@dataclass(frozen=True, slots=True)
class Threshold:
    """`metric >= min` and/or `metric <= max` (the old `thresholds` entry)."""

    metric: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Preset:
    """One preset, in the terms of the existing WorldService form."""

    name: str
    thresholds: tuple[Threshold, ...]
    rank_metric: str
    top_k: int
    correlation_max: float | None = None
    bands: Bands | None = None

    def threshold(self, metric: str) -> Threshold | None:
        return next((t for t in self.thresholds if t.metric == metric), None)

    def with_threshold(self, threshold: Threshold) -> Preset:
        """This preset with `threshold` replacing the one on its metric (or added last)."""
        kept = [t for t in self.thresholds if t.metric != threshold.metric]
        if threshold.min is None and threshold.max is None:
            return replace(self, thresholds=tuple(kept))
        if self.threshold(threshold.metric) is None:
            return replace(self, thresholds=(*self.thresholds, threshold))
        return replace(
            self,
            thresholds=tuple(
                threshold if t.metric == threshold.metric else t for t in self.thresholds
            ),
        )


def _standard(
    name: str,
    *,
    sharpe: float,
    max_drawdown: float,
    win_rate: float | None,
    profit_factor: float,
    top_k: int,
    correlation: float,
    enter: float,
    exit: float,
) -> Preset:
    thresholds = [Threshold("sharpe", min=sharpe), Threshold("max_drawdown", max=max_drawdown)]
    if win_rate is not None:
        thresholds.append(Threshold("win_rate", min=win_rate))
    thresholds.append(Threshold("profit_factor", min=profit_factor))
    return Preset(
        name=name,
        thresholds=tuple(thresholds),
        rank_metric="sharpe",
        top_k=top_k,
        correlation_max=correlation,
        bands=Bands(metric="sharpe", enter=enter, exit=exit),
    )


PRESETS: dict[str, Preset] = {
    "sandbox": Preset(name="sandbox", thresholds=(), rank_metric="sharpe", top_k=10),
    "conservative": _standard(
        "conservative",
        sharpe=1.0,
        max_drawdown=0.15,
        win_rate=0.55,
        profit_factor=1.5,
        top_k=3,
        correlation=0.5,
        enter=1.0,
        exit=0.8,
    ),
    "moderate": _standard(
        "moderate",
        sharpe=0.7,
        max_drawdown=0.25,
        win_rate=0.50,
        profit_factor=1.2,
        top_k=5,
        correlation=0.7,
        enter=0.7,
        exit=0.5,
    ),
    "aggressive": _standard(
        "aggressive",
        sharpe=0.5,
        max_drawdown=0.40,
        win_rate=None,
        profit_factor=1.0,
        top_k=8,
        correlation=0.85,
        enter=0.5,
        exit=0.3,
    ),
}
"""Every preset by name, as the table of docs/policy-language.md#6-presets defines them."""

OVERRIDE_KEYS: dict[str, str] = {
    "<metric>.min": "lowest allowed value of a threshold (null removes that bound)",
    "<metric>.max": "highest allowed value of a threshold (null removes that bound)",
    "top_k.k": "how many strategies are kept (a whole number, at least 1)",
    "top_k.metric": "the metric strategies are ranked by",
    "correlation.max": "highest allowed pairwise correlation, 0 to 1 (null removes the limit)",
    "hysteresis.metric": "the metric of the enter/exit bands",
    "hysteresis.enter": "level a new strategy must reach",
    "hysteresis.exit": "level an active strategy must keep",
}
"""The keys `preset_overrides` accepts, with what each changes."""
