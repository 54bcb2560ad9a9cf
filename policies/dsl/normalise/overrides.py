"""`preset_overrides`: single values of a preset changed before it is used.

The keys are listed in `presets.OVERRIDE_KEYS` and docs/policy-language.md ("Changing a preset"):
`<metric>.min` / `<metric>.max` for thresholds (null removes the bound), and the fixed keys below.
The three band keys change the preset's bands together, so their order is checked once, after
all of them were read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from fieldreaders import show, unknown_choice

from ..model import format_number
from ..presets import Preset, Threshold
from .hysteresis import ordered_bands
from .reader import DocumentReader
from .thresholds import inverted

T = TypeVar("T")

OVERRIDES_PATH = "preset_overrides"
BAND_OVERRIDES = ("hysteresis.metric", "hysteresis.enter", "hysteresis.exit")
FIXED_OVERRIDES = ("top_k.k", "top_k.metric", "correlation.max", *BAND_OVERRIDES)


class PresetOverrides:
    """Applies the overrides of one document to its preset, reporting each problem at its key."""

    def __init__(self, read: DocumentReader, preset: Preset) -> None:
        self.read = read
        self.preset = preset
        self.touched: dict[str, str] = {}  # threshold metric -> path of the last override of it
        self.band_values: dict[str, tuple[object, str]] = {}  # metric/enter/exit -> value, path
        self.fixed: dict[str, Callable[[object, str], None]] = {
            "top_k.k": self.top_k,
            "top_k.metric": self.rank_metric,
            "correlation.max": self.correlation,
        }

    def apply(self, overrides: Mapping[Any, Any]) -> Preset:
        for key, value in overrides.items():
            self.one(key, value, self.read.join_key(OVERRIDES_PATH, key))
        self.check_thresholds()
        if self.band_values:
            self.apply_bands()
        return self.preset

    def one(self, key: object, value: object, path: str) -> None:
        if not isinstance(key, str):
            self.read.add(path, "override keys are text, such as 'sharpe.min'")
        elif key in self.fixed:
            self.fixed[key](value, path)
        elif key in BAND_OVERRIDES:
            self.band_values[key.removeprefix("hysteresis.")] = (value, path)
        elif key.startswith(("top_k.", "correlation.", "hysteresis.")):
            self.read.add(path, unknown_choice("override", key, FIXED_OVERRIDES))
        else:
            self.threshold(key, value, path)

    # --- the fixed keys ------------------------------------------------------------------------

    def top_k(self, value: object, path: str) -> None:
        k = self.read.count(value, path)
        if k is not None:
            self.preset = replace(self.preset, top_k=k)

    def rank_metric(self, value: object, path: str) -> None:
        metric = self.read.metric(value, path)
        if metric is not None:
            self.preset = replace(self.preset, rank_metric=metric)

    def correlation(self, value: object, path: str) -> None:
        if value is None:
            self.preset = replace(self.preset, correlation_max=None)
            return
        limit = self.read.number(value, path, minimum=0.0, maximum=1.0)
        if limit is not None:
            self.preset = replace(self.preset, correlation_max=limit)

    # --- thresholds ----------------------------------------------------------------------------

    def threshold(self, key: str, value: object, path: str) -> None:
        named = self.threshold_key(key, path)
        if named is None:
            return
        metric, bound = named
        existing = self.preset.threshold(metric) or Threshold(metric)
        if value is None and getattr(existing, bound) is None:
            self.read.add(
                path, f"the preset '{self.preset.name}' has no {metric}.{bound} to remove"
            )
            return
        number = None if value is None else self.read.number(value, path)
        if value is not None and number is None:
            return
        changed = replace(existing, min=number) if bound == "min" else replace(existing, max=number)
        self.preset = self.preset.with_threshold(changed)
        self.touched[metric] = path

    def threshold_key(self, key: str, path: str) -> tuple[str, str] | None:
        """`<metric>.min` or `<metric>.max` as (metric, bound)."""
        metric, _, bound = key.rpartition(".")
        if bound not in ("min", "max") or not metric:
            self.read.add(
                path,
                f"unknown override {show(key)}; use '<metric>.min' or '<metric>.max' for a "
                f"threshold, or one of {', '.join(FIXED_OVERRIDES)}",
            )
            return None
        if self.read.metric_key(metric, path) is None:
            return None
        return metric, bound

    def check_thresholds(self) -> None:
        """A threshold whose overrides leave its min above its max is reported at the last."""
        for metric, path in self.touched.items():
            threshold = self.preset.threshold(metric)
            if threshold is not None and inverted(threshold.min, threshold.max):
                self.read.add(
                    path,
                    f"leaves {metric} with min {format_number(threshold.min or 0.0)} above max "
                    f"{format_number(threshold.max or 0.0)}",
                )

    # --- bands ---------------------------------------------------------------------------------

    def apply_bands(self) -> None:
        """The band overrides together; a value not overridden keeps the preset's."""
        if not self.bands_complete():
            return
        current = self.preset.bands
        metric = self.band_value("metric", self.read.metric, current.metric if current else None)
        enter = self.band_value("enter", self.read.number, current.enter if current else None)
        exit_ = self.band_value("exit", self.read.number, current.exit if current else None)
        if metric is not None and enter is not None and exit_ is not None:
            self.set_bands(metric, enter, exit_)

    def set_bands(self, metric: str, enter: float, exit_: float) -> None:
        """The new bands, unless exit is above enter (reported at the exit, or the enter, or the
        metric override: the first of them given)."""
        values = self.band_values
        changed = values.get("exit") or values.get("enter") or values["metric"]
        bands = ordered_bands(self.read, metric, enter, exit_, changed[1])
        if bands is not None:
            self.preset = replace(self.preset, bands=bands)

    def bands_complete(self) -> bool:
        """A preset without bands gets them only from all three keys at once."""
        if self.preset.bands is not None or len(self.band_values) == len(BAND_OVERRIDES):
            return True
        self.read.add(
            next(iter(self.band_values.values()))[1],
            f"the preset '{self.preset.name}' has no hysteresis bands: give "
            "hysteresis.metric, hysteresis.enter and hysteresis.exit together",
        )
        return False

    def band_value(
        self, name: str, read: Callable[[object, str], T | None], current: T | None
    ) -> T | None:
        """The overridden value of `name` (None when invalid), else `current`."""
        if name not in self.band_values:
            return current
        return read(*self.band_values[name])
