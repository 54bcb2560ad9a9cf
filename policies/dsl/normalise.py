"""From a loaded document (plain dicts and lists) to the normalised `Policy`.

Accepts the current language (docs/policy-language.md#2-the-sections-one-by-one), the existing
WorldService form (docs/policy-language.md#7-the-older-form-of-policies: `thresholds`, `top_k`,
`correlation`, `hysteresis: {metric, enter, exit}`, their `selection`-nested variants,
`validation`) and presets with `preset_overrides`. Every problem found is collected under its
document path and raised together as one `PolicyValidationError`.

When several places of a document describe the same part of a policy:
- gates from every place (the preset, `thresholds`, `selection.thresholds`, `selection.gates`)
  all apply: they are joined by `and`, in that order;
- any other part (score, top-k, correlation limit, exposure, hysteresis counts, hysteresis bands)
  may be given once; a second place is an error (for a preset: change it with `preset_overrides`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from .durations import DurationError, parse_duration
from .errors import (
    ROOT_PATH,
    ErrorCollector,
    PolicyValidationError,
    describe_type,
    join_index,
    join_key,
    show,
)
from .expressions import ExpressionError, expression_score, is_metric_name, parse_comparison
from .expressions import parse_score_expression as _parse_score
from .limits import MAX_GATE_DEPTH, MAX_GATES, MAX_NODES, MAX_PRESET_OVERRIDES
from .loader import load_document
from .model import (
    SIDES,
    AllOf,
    AnyOf,
    Bands,
    Comparison,
    Constraints,
    CorrelationConstraint,
    DataCurrency,
    ExposureConstraint,
    Gate,
    Hysteresis,
    MetricRef,
    OnMissingMetric,
    Policy,
    Sample,
    Score,
    Selection,
    Side,
    TopK,
    Validation,
    WeightedScore,
    format_number,
)
from .presets import PRESETS, Preset, Threshold

TOP_LEVEL_KEYS = (
    "data_currency",
    "sample",
    "selection",
    "validation",
    "preset",
    "preset_overrides",
    "thresholds",
    "top_k",
    "correlation",
    "hysteresis",
)
SELECTION_KEYS = (
    "gates",
    "score",
    "topk",
    "constraints",
    "hysteresis",
    "thresholds",
    "top_k",
    "correlation",
)
HYSTERESIS_COUNT_KEYS = ("promote_after", "demote_after", "min_dwell")
HYSTERESIS_BAND_KEYS = ("metric", "enter", "exit")
ON_MISSING_METRIC: dict[str, OnMissingMetric] = {"fail": "fail", "warn": "warn", "ignore": "ignore"}
SIDE_NAMES: dict[str, Side] = {side: side for side in SIDES}
MAX_COUNT = 1_000_000
PRESET_PATH = "preset"
OVERRIDES_PATH = "preset_overrides"
_FIXED_OVERRIDES = (
    "top_k.k",
    "top_k.metric",
    "correlation.max",
    "hysteresis.metric",
    "hysteresis.enter",
    "hysteresis.exit",
)
_EXAMPLE_GATE = "'sharpe >= 0.6'"
_T = TypeVar("_T")


def parse_policy(data: Mapping[str, Any]) -> Policy:
    """Validate a loaded policy document and return its normalised form.

    Raises `PolicyValidationError` with every problem found, keyed by document path. A document
    holding more than `MAX_NODES` values is refused before any of them is looked at (text went
    through the same bound in `load_document`; data sent as JSON is counted here).
    """
    if _count_values(data, MAX_NODES) > MAX_NODES:
        raise PolicyValidationError.single(
            ROOT_PATH, f"the document holds too many values (more than {MAX_NODES})"
        )
    return _Normaliser().policy(data)


def _count_values(data: object, limit: int) -> int:
    """How many values `data` holds (keys count as values), counting no further than `limit`."""
    count = 0
    pending: list[object] = [data]
    while pending and count <= limit:
        value = pending.pop()
        count += 1
        if isinstance(value, Mapping):
            count += len(value)
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(value)
    return count


def parse_policy_text(text: str) -> Policy:
    """Load YAML or JSON text with `load_document` and normalise it with `parse_policy`."""
    return parse_policy(load_document(text))


@dataclass(frozen=True, slots=True)
class _Counts:
    promote_after: int
    demote_after: int
    min_dwell_seconds: int


class _Normaliser:
    def __init__(self) -> None:
        self.errors = ErrorCollector()
        self.claimed: dict[str, str] = {}  # part of the policy -> path of the place that set it
        self.preset_name: str | None = None
        self.comparisons = 0  # in gates, bounded by MAX_GATES
        self.gates: list[Gate] = []
        self.score: Score | None = None
        self.topk: TopK | None = None
        self.correlation: CorrelationConstraint | None = None
        self.exposure: ExposureConstraint | None = None
        self.counts: _Counts | None = None
        self.bands: Bands | None = None

    # --- document ------------------------------------------------------------------------------

    def policy(self, data: object) -> Policy:
        if not isinstance(data, Mapping):
            raise PolicyValidationError.single(
                ROOT_PATH, f"the policy must be a mapping of sections, not {describe_type(data)}"
            )
        self.check_keys(data, "", TOP_LEVEL_KEYS)
        self.preset(data)
        data_currency = self.data_currency(data.get("data_currency"), "data_currency")
        sample = self.sample(data.get("sample"), "sample")
        self.legacy_parts(data, "")
        selection = self.mapping(data.get("selection"), "selection")
        if selection is not None:
            self.check_keys(selection, "selection", SELECTION_KEYS)
            self.legacy_parts(selection, "selection")
            self.selection_parts(selection, "selection")
        validation = self.validation(data.get("validation"), "validation")
        self.errors.raise_if_any()
        return Policy(
            data_currency=data_currency,
            sample=sample,
            selection=Selection(
                gates=_join_gates(self.gates),
                score=self.score,
                topk=self.topk,
                constraints=Constraints(correlation=self.correlation, exposure=self.exposure),
                hysteresis=self.hysteresis(),
            ),
            validation=validation,
        )

    def hysteresis(self) -> Hysteresis | None:
        if self.counts is None and self.bands is None:
            return None
        counts = self.counts or _Counts(1, 1, 0)
        return Hysteresis(
            promote_after=counts.promote_after,
            demote_after=counts.demote_after,
            min_dwell_seconds=counts.min_dwell_seconds,
            bands=self.bands,
        )

    def claim(self, part: str, path: str) -> bool:
        """Record that `path` sets `part`; report an error if another place already did."""
        earlier = self.claimed.get(part)
        if earlier is None:
            self.claimed[part] = path
            return True
        if earlier == PRESET_PATH:
            self.errors.add(
                path,
                f"the preset '{self.preset_name}' already sets the {part}; change it with "
                "preset_overrides instead",
            )
        else:
            verb = "are" if part.endswith("s") else "is"
            self.errors.add(
                path, f"the {part} {verb} already set at '{earlier}'; give it only once"
            )
        return False

    # --- sections ------------------------------------------------------------------------------

    def data_currency(self, value: object, path: str) -> DataCurrency:
        section = self.mapping(value, path)
        if section is None:
            return DataCurrency()
        self.check_keys(section, path, ("max_lag", "min_history"))
        return DataCurrency(
            max_lag_seconds=self.duration_at(section, "max_lag", path),
            min_history_seconds=self.duration_at(section, "min_history", path),
        )

    def sample(self, value: object, path: str) -> Sample:
        section = self.mapping(value, path)
        if section is None:
            return Sample()
        self.check_keys(section, path, ("min_days", "min_trades", "min_bars"))
        return Sample(
            min_days=self.number_at(section, "min_days", path, minimum=0.0),
            min_trades=self.number_at(section, "min_trades", path, minimum=0.0),
            min_bars=self.number_at(section, "min_bars", path, minimum=0.0),
        )

    def validation(self, value: object, path: str) -> Validation:
        section = self.mapping(value, path)
        if section is None:
            return Validation()
        self.check_keys(section, path, ("on_missing_metric",))
        raw = section.get("on_missing_metric")
        if raw is None:
            return Validation()
        choice = ON_MISSING_METRIC.get(raw) if isinstance(raw, str) else None
        if choice is None:
            self.errors.add(
                join_key(path, "on_missing_metric"),
                f"must be fail, warn or ignore, not {show(raw)}",
            )
            return Validation()
        return Validation(on_missing_metric=choice)

    def legacy_parts(self, section: Mapping[Any, Any], prefix: str) -> None:
        """`thresholds`, `top_k`, `correlation` and `hysteresis` at the top or in `selection`."""
        if section.get("thresholds") is not None:
            self.thresholds(section["thresholds"], join_key(prefix, "thresholds"))
        if section.get("top_k") is not None:
            self.legacy_top_k(section["top_k"], join_key(prefix, "top_k"))
        if section.get("correlation") is not None:
            self.legacy_correlation(section["correlation"], join_key(prefix, "correlation"))
        if section.get("hysteresis") is not None:
            self.hysteresis_section(section["hysteresis"], join_key(prefix, "hysteresis"))

    def selection_parts(self, selection: Mapping[Any, Any], path: str) -> None:
        if selection.get("gates") is not None:
            gates_path = join_key(path, "gates")
            gate = self.gate(selection["gates"], gates_path, depth=1)
            if gate is not None:
                self.gates.append(gate)
        if selection.get("score") is not None:
            score_path = join_key(path, "score")
            score = self.score_section(selection["score"], score_path)
            if score is not None and self.claim("score", score_path):
                self.score = score
        if selection.get("topk") is not None:
            topk_path = join_key(path, "topk")
            topk = self.topk_section(selection["topk"], topk_path)
            if topk is not None and self.claim("top-k", topk_path):
                self.topk = topk
        constraints = self.mapping(selection.get("constraints"), join_key(path, "constraints"))
        if constraints is not None:
            self.constraints(constraints, join_key(path, "constraints"))

    # --- preset --------------------------------------------------------------------------------

    def preset(self, data: Mapping[Any, Any]) -> None:
        name = data.get("preset")
        overrides = data.get("preset_overrides")
        if name is None:
            if overrides is not None:
                self.errors.add(
                    OVERRIDES_PATH,
                    "needs a preset to change: add preset: sandbox, conservative, moderate or "
                    "aggressive",
                )
            return
        if not isinstance(name, str) or name not in PRESETS:
            self.errors.add(PRESET_PATH, _unknown_choice("preset", name, PRESETS))
            return
        self.preset_name = name
        preset = PRESETS[name]
        override_map = self.mapping(overrides, OVERRIDES_PATH)
        if override_map is not None and len(override_map) > MAX_PRESET_OVERRIDES:
            self.errors.add(
                OVERRIDES_PATH,
                f"at most {MAX_PRESET_OVERRIDES} overrides (this has {len(override_map)})",
            )
        elif override_map is not None:
            preset = self.apply_overrides(preset, override_map)
        self.use_preset(preset)

    def apply_overrides(self, preset: Preset, overrides: Mapping[Any, Any]) -> Preset:
        touched: dict[str, str] = {}  # threshold metric -> path of the last override of it
        band_values: dict[str, tuple[object, str]] = {}
        for key, value in overrides.items():
            path = join_key(OVERRIDES_PATH, key)
            if not isinstance(key, str):
                self.errors.add(path, "override keys are text, such as 'sharpe.min'")
            elif key == "top_k.k":
                k = self.integer(value, path, minimum=1)
                if k is not None:
                    preset = replace(preset, top_k=k)
            elif key == "top_k.metric":
                metric = self.metric(value, path)
                if metric is not None:
                    preset = replace(preset, rank_metric=metric)
            elif key == "correlation.max":
                if value is None:
                    preset = replace(preset, correlation_max=None)
                else:
                    limit = self.number(value, path, minimum=0.0, maximum=1.0)
                    if limit is not None:
                        preset = replace(preset, correlation_max=limit)
            elif key in ("hysteresis.metric", "hysteresis.enter", "hysteresis.exit"):
                band_values[key.removeprefix("hysteresis.")] = (value, path)
            elif key.startswith(("top_k.", "correlation.", "hysteresis.")):
                self.errors.add(path, _unknown_choice("override", key, _FIXED_OVERRIDES))
            else:
                updated = self.threshold_override(preset, key, value, path)
                if updated is not None:
                    preset = updated
                    touched[key.rpartition(".")[0]] = path
        for metric, path in touched.items():
            threshold = preset.threshold(metric)
            if threshold is not None and _inverted(threshold.min, threshold.max):
                self.errors.add(
                    path,
                    f"leaves {metric} with min {format_number(threshold.min or 0.0)} above max "
                    f"{format_number(threshold.max or 0.0)}",
                )
        if band_values:
            preset = self.band_overrides(preset, band_values)
        return preset

    def threshold_override(
        self, preset: Preset, key: str, value: object, path: str
    ) -> Preset | None:
        metric, _, bound = key.rpartition(".")
        if bound not in ("min", "max") or not metric:
            self.errors.add(
                path,
                f"unknown override {show(key)}; use '<metric>.min' or '<metric>.max' for a "
                f"threshold, or one of {', '.join(_FIXED_OVERRIDES)}",
            )
            return None
        if not is_metric_name(metric):
            self.errors.add(path, f"{show(metric)} is not a metric name")
            return None
        existing = preset.threshold(metric)
        if value is None:
            if existing is None or getattr(existing, bound) is None:
                self.errors.add(
                    path, f"the preset '{preset.name}' has no {metric}.{bound} to remove"
                )
                return None
            number = None
        else:
            number = self.number(value, path)
            if number is None:
                return None
        current = existing or Threshold(metric)
        if bound == "min":
            return preset.with_threshold(replace(current, min=number))
        return preset.with_threshold(replace(current, max=number))

    def band_overrides(self, preset: Preset, values: Mapping[str, tuple[object, str]]) -> Preset:
        if preset.bands is None and len(values) < len(HYSTERESIS_BAND_KEYS):
            first_path = next(iter(values.values()))[1]
            self.errors.add(
                first_path,
                f"the preset '{preset.name}' has no hysteresis bands: give hysteresis.metric, "
                "hysteresis.enter and hysteresis.exit together",
            )
            return preset
        metric = preset.bands.metric if preset.bands else None
        enter = preset.bands.enter if preset.bands else None
        exit_ = preset.bands.exit if preset.bands else None
        valid = True
        if "metric" in values:
            metric = self.metric(*values["metric"])
            valid &= metric is not None
        if "enter" in values:
            enter = self.number(*values["enter"])
            valid &= enter is not None
        if "exit" in values:
            exit_ = self.number(*values["exit"])
            valid &= exit_ is not None
        if not valid or metric is None or enter is None or exit_ is None:
            return preset
        if exit_ > enter:
            changed = values.get("exit") or values.get("enter") or values["metric"]
            self.errors.add(changed[1], _band_order_message(enter, exit_))
            return preset
        return replace(preset, bands=Bands(metric=metric, enter=enter, exit=exit_))

    def use_preset(self, preset: Preset) -> None:
        comparisons = _threshold_comparisons(preset.thresholds)
        if comparisons:
            self.gates.append(AllOf(comparisons))
        self.claim("score", PRESET_PATH)
        self.score = expression_score(MetricRef(preset.rank_metric))
        self.claim("top-k", PRESET_PATH)
        self.topk = TopK(total=preset.top_k)
        if preset.correlation_max is not None:
            self.claim("correlation limit", PRESET_PATH)
            self.correlation = CorrelationConstraint(max_pairwise=preset.correlation_max)
        if preset.bands is not None:
            self.claim("hysteresis bands", PRESET_PATH)
            self.bands = preset.bands

    # --- the existing WorldService form --------------------------------------------------------

    def thresholds(self, value: object, path: str) -> None:
        section = self.mapping(value, path)
        if section is None:
            return
        thresholds: list[Threshold] = []
        for label, entry_value in section.items():
            entry_path = join_key(path, label)
            entry = self.mapping(entry_value, entry_path, required=True)
            if entry is None:
                continue
            self.check_keys(entry, entry_path, ("metric", "min", "max"))
            if entry.get("metric") is not None:
                metric = self.metric(entry["metric"], join_key(entry_path, "metric"))
            elif is_metric_name(label):
                metric = str(label)
            else:
                metric = None
                self.errors.add(
                    join_key(entry_path, "metric"),
                    f"is required, as the label {show(label)} is not a metric name",
                )
            low = self.number_at(entry, "min", entry_path)
            high = self.number_at(entry, "max", entry_path)
            if entry.get("min") is None and entry.get("max") is None:
                self.errors.add(entry_path, "needs min or max (or both)")
            elif _inverted(low, high):
                self.errors.add(
                    join_key(entry_path, "min"),
                    f"min ({format_number(low or 0.0)}) is above "
                    f"max ({format_number(high or 0.0)})",
                )
            elif metric is not None:
                thresholds.append(Threshold(metric=metric, min=low, max=high))
        comparisons = _threshold_comparisons(thresholds)
        if comparisons:
            self.gates.append(AllOf(comparisons))

    def legacy_top_k(self, value: object, path: str) -> None:
        section = self.mapping(value, path)
        if section is None:
            return
        self.check_keys(section, path, ("metric", "k"))
        k = self.integer_at(section, "k", path, minimum=1, required=True)
        metric = None
        if section.get("metric") is not None:
            metric = self.metric(section["metric"], join_key(path, "metric"))
        if metric is not None and self.claim("score", path):
            self.score = expression_score(MetricRef(metric))
        if k is not None and self.claim("top-k", path):
            self.topk = TopK(total=k)

    def legacy_correlation(self, value: object, path: str) -> None:
        section = self.mapping(value, path)
        if section is None:
            return
        self.check_keys(section, path, ("max",))
        limit = self.number_at(section, "max", path, minimum=0.0, maximum=1.0, required=True)
        if limit is not None and self.claim("correlation limit", path):
            self.correlation = CorrelationConstraint(max_pairwise=limit)

    def hysteresis_section(self, value: object, path: str) -> None:
        """`hysteresis` in either form: counts and `bands`, or the old `{metric, enter, exit}`."""
        section = self.mapping(value, path)
        if section is None:
            return
        self.check_keys(section, path, (*HYSTERESIS_COUNT_KEYS, "bands", *HYSTERESIS_BAND_KEYS))
        promote = self.integer_at(section, "promote_after", path, minimum=1)
        demote = self.integer_at(section, "demote_after", path, minimum=1)
        dwell = self.duration_at(section, "min_dwell", path)
        inline_bands = [key for key in HYSTERESIS_BAND_KEYS if key in section]
        has_bands = section.get("bands") is not None
        bands: Bands | None = None
        bands_path = join_key(path, "bands")
        if has_bands and inline_bands:
            self.errors.add(
                path, "give the bands either as bands: {metric, enter, exit} or inline, not both"
            )
        elif has_bands:
            bands_section = self.mapping(section["bands"], bands_path)
            if bands_section is not None:
                bands = self.bands_fields(bands_section, bands_path, check=True)
        elif inline_bands:
            bands_path = path
            bands = self.bands_fields(section, path, check=False)
        counted = any(key in section for key in HYSTERESIS_COUNT_KEYS)
        wants_counts = counted or not (has_bands or inline_bands)
        if wants_counts and self.claim("hysteresis counts", path):
            self.counts = _Counts(promote or 1, demote or 1, dwell or 0)
        if bands is not None and self.claim("hysteresis bands", bands_path):
            self.bands = bands

    def bands_fields(self, section: Mapping[Any, Any], path: str, *, check: bool) -> Bands | None:
        if check:
            self.check_keys(section, path, HYSTERESIS_BAND_KEYS)
        metric_value = section.get("metric")
        metric = None
        if metric_value is None:
            self.errors.add(join_key(path, "metric"), "is required")
        else:
            metric = self.metric(metric_value, join_key(path, "metric"))
        enter = self.number_at(section, "enter", path, required=True)
        exit_ = self.number_at(section, "exit", path, required=True)
        if metric is None or enter is None or exit_ is None:
            return None
        if exit_ > enter:
            self.errors.add(join_key(path, "exit"), _band_order_message(enter, exit_))
            return None
        return Bands(metric=metric, enter=enter, exit=exit_)

    # --- the current language ------------------------------------------------------------------

    def gate(self, value: object, path: str, depth: int) -> Gate | None:
        if depth > MAX_GATE_DEPTH:
            self.errors.add(
                path, f"gates are nested too deeply (at most {MAX_GATE_DEPTH} levels of and/or)"
            )
            return None
        if isinstance(value, str):
            return self.comparison(value, path)
        if isinstance(value, list):
            children = self.gate_list(value, path, depth)
            return AllOf(children) if children is not None else None
        if isinstance(value, Mapping):
            keys = list(value)
            unknown = [key for key in keys if key not in ("and", "or")]
            for key in unknown:
                self.errors.add(join_key(path, key), _unknown_choice("key", key, ("and", "or")))
            if unknown:
                return None
            if len(keys) != 1:
                self.errors.add(
                    path,
                    "needs exactly one key, 'and' or 'or'"
                    + ("; to mix them, put one inside the other" if keys else ""),
                )
                return None
            key = keys[0]
            children_value = value[key]
            children_path = join_key(path, key)
            if not isinstance(children_value, list):
                self.errors.add(
                    children_path,
                    f"must be a list of gates, not {describe_type(children_value)}",
                )
                return None
            children = self.gate_list(children_value, children_path, depth)
            if children is None:
                return None
            return AllOf(children) if key == "and" else AnyOf(children)
        self.errors.add(
            path,
            f"a gate must be a comparison such as {_EXAMPLE_GATE}, a list of gates, or a "
            f"mapping with one key 'and' or 'or'; found {describe_type(value)}",
        )
        return None

    def comparison(self, value: str, path: str) -> Gate | None:
        self.comparisons += 1
        if self.comparisons > MAX_GATES:
            if self.comparisons == MAX_GATES + 1:  # said once, at the first one too many
                self.errors.add(path, f"too many gates (at most {MAX_GATES} comparisons)")
            return None
        try:
            return parse_comparison(value)
        except ExpressionError as exc:
            self.errors.add(path, str(exc))
            return None

    def gate_list(self, items: list[Any], path: str, depth: int) -> tuple[Gate, ...] | None:
        if not items:
            self.errors.add(path, "needs at least one gate")
            return None
        children: list[Gate] = []
        complete = True
        for index, item in enumerate(items):
            child = self.gate(item, join_index(path, index), depth + 1)
            if child is None:
                complete = False
            else:
                children.append(child)
        return tuple(children) if complete else None

    def score_section(self, value: object, path: str) -> Score | None:
        if isinstance(value, str):
            try:
                return _parse_score(value)
            except ExpressionError as exc:
                self.errors.add(path, str(exc))
                return None
        if isinstance(value, Mapping):
            self.check_keys(value, path, ("weights",))
            weights_path = join_key(path, "weights")
            weights = self.mapping(value.get("weights"), weights_path, required=True)
            if weights is None:
                return None
            if not weights:
                self.errors.add(weights_path, "needs at least one metric and its weight")
                return None
            pairs: list[tuple[str, float]] = []
            for name, weight_value in weights.items():
                weight_path = join_key(weights_path, name)
                if not is_metric_name(name):
                    self.errors.add(weight_path, f"{show(name)} is not a metric name")
                    continue
                weight = self.number(weight_value, weight_path)
                if weight is not None:
                    pairs.append((str(name), weight))
            if len(pairs) != len(weights):
                return None
            return WeightedScore(weights=tuple(sorted(pairs)))
        self.errors.add(
            path,
            "must be an expression such as 'sharpe + 0.1 * win_rate', or "
            f"{{weights: {{metric: weight}}}}; found {describe_type(value)}",
        )
        return None

    def topk_section(self, value: object, path: str) -> TopK | None:
        section = self.mapping(value, path)
        if section is None:
            return None
        self.check_keys(section, path, ("total", "by_side"))
        total = self.integer_at(section, "total", path, minimum=1)
        by_side_path = join_key(path, "by_side")
        by_side = self.side_map(
            section.get("by_side"), by_side_path, lambda v, p: self.integer(v, p, minimum=1)
        )
        if section.get("total") is None and not section.get("by_side"):
            self.errors.add(path, "needs total, by_side, or both")
            return None
        if by_side is None or (section.get("total") is not None and total is None):
            return None
        return TopK(total=total, by_side=tuple(sorted(by_side.items())))

    def constraints(self, section: Mapping[Any, Any], path: str) -> None:
        self.check_keys(section, path, ("correlation", "exposure"))
        correlation_path = join_key(path, "correlation")
        correlation = self.mapping(section.get("correlation"), correlation_path)
        if correlation is not None:
            self.check_keys(correlation, correlation_path, ("max_pairwise",))
            limit = self.number_at(
                correlation,
                "max_pairwise",
                correlation_path,
                minimum=0.0,
                maximum=1.0,
                required=True,
            )
            if limit is not None and self.claim("correlation limit", correlation_path):
                self.correlation = CorrelationConstraint(max_pairwise=limit)
        exposure_path = join_key(path, "exposure")
        exposure = self.mapping(section.get("exposure"), exposure_path)
        if exposure is not None:
            self.check_keys(exposure, exposure_path, ("gross_budget", "max_weight"))
            budget_path = join_key(exposure_path, "gross_budget")
            budget = self.side_map(
                exposure.get("gross_budget"),
                budget_path,
                lambda v, p: self.number(v, p, minimum=0.0, maximum=1.0),
            )
            max_weight = self.number_at(
                exposure, "max_weight", exposure_path, above=0.0, maximum=1.0
            )
            weight_ok = exposure.get("max_weight") is None or max_weight is not None
            if budget is not None and weight_ok and self.claim("exposure", exposure_path):
                self.exposure = ExposureConstraint(
                    gross_budget=tuple(sorted(budget.items())),
                    max_weight=max_weight,
                )

    def side_map(
        self, value: object, path: str, read: Callable[[object, str], _T | None]
    ) -> dict[Side, _T] | None:
        """A mapping `{long: …, short: …}`; None when invalid (absent gives an empty one)."""
        if value is None:
            return {}
        section = self.mapping(value, path)
        if section is None:
            return None
        result: dict[Side, _T] = {}
        complete = True
        for key, item in section.items():
            item_path = join_key(path, key)
            side = SIDE_NAMES.get(key) if isinstance(key, str) else None
            if side is None:
                self.errors.add(item_path, f"unknown side {show(key)}; use long or short")
                complete = False
                continue
            read_value = read(item, item_path)
            if read_value is None:
                complete = False
            else:
                result[side] = read_value
        return result if complete else None

    # --- values --------------------------------------------------------------------------------

    def check_keys(self, section: Mapping[Any, Any], path: str, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in section:
            if key not in allowed:
                self.errors.add(join_key(path, key), _unknown_choice("key", key, allowed))

    def mapping(
        self, value: object, path: str, *, required: bool = False
    ) -> Mapping[Any, Any] | None:
        if value is None:
            if required:
                self.errors.add(path, "is required")
            return None
        if isinstance(value, Mapping):
            return value
        self.errors.add(path, f"must be a mapping, not {describe_type(value)}")
        return None

    def number(
        self,
        value: object,
        path: str,
        *,
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
    ) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors.add(path, f"must be a number, not {describe_type(value)}")
            return None
        try:
            number = float(value)
        except OverflowError:
            self.errors.add(path, "is too large")
            return None
        if not math.isfinite(number):
            self.errors.add(path, "must be a finite number")
            return None
        too_low = (minimum is not None and number < minimum) or (
            above is not None and number <= above
        )
        if too_low or (maximum is not None and number > maximum):
            self.errors.add(path, _range_message(minimum, above, maximum))
            return None
        return number

    def number_at(
        self,
        section: Mapping[Any, Any],
        key: str,
        path: str,
        *,
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
        required: bool = False,
    ) -> float | None:
        value = section.get(key)
        if value is None:
            if required:
                self.errors.add(join_key(path, key), "is required")
            return None
        return self.number(
            value, join_key(path, key), minimum=minimum, above=above, maximum=maximum
        )

    def integer(self, value: object, path: str, *, minimum: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors.add(path, f"must be a whole number, not {describe_type(value)}")
            return None
        if isinstance(value, float) and not value.is_integer():
            self.errors.add(
                path,
                f"must be a whole number, not {format_number(value)}"
                if math.isfinite(value)
                else "must be a whole number",
            )
            return None
        if value < minimum:
            self.errors.add(path, f"must be at least {minimum}")
            return None
        if value > MAX_COUNT:
            self.errors.add(path, f"must be at most {MAX_COUNT}")
            return None
        return int(value)

    def integer_at(
        self,
        section: Mapping[Any, Any],
        key: str,
        path: str,
        *,
        minimum: int,
        required: bool = False,
    ) -> int | None:
        value = section.get(key)
        if value is None:
            if required:
                self.errors.add(join_key(path, key), "is required")
            return None
        return self.integer(value, join_key(path, key), minimum=minimum)

    def duration_at(self, section: Mapping[Any, Any], key: str, path: str) -> int | None:
        value = section.get(key)
        if value is None:
            return None
        try:
            return parse_duration(value)
        except DurationError as exc:
            self.errors.add(join_key(path, key), str(exc))
            return None

    def metric(self, value: object, path: str) -> str | None:
        if isinstance(value, str) and is_metric_name(value):
            return value
        self.errors.add(
            path,
            f"must be a metric name such as 'sharpe' (letters, digits, '_' and '.', starting "
            f"with a letter or '_'), not {show(value)}",
        )
        return None


def _join_gates(sources: list[Gate]) -> Gate | None:
    """One gate from the gates of several places: joined by `and`, without nesting `and`s."""
    if not sources:
        return None
    if len(sources) == 1:
        return sources[0]
    children: list[Gate] = []
    for gate in sources:
        children.extend(gate.children if isinstance(gate, AllOf) else (gate,))
    return AllOf(tuple(children))


def _threshold_comparisons(thresholds: Iterable[Threshold]) -> tuple[Comparison, ...]:
    comparisons: list[Comparison] = []
    for threshold in thresholds:
        if threshold.min is not None:
            comparisons.append(Comparison(threshold.metric, ">=", threshold.min))
        if threshold.max is not None:
            comparisons.append(Comparison(threshold.metric, "<=", threshold.max))
    return tuple(comparisons)


def _inverted(low: float | None, high: float | None) -> bool:
    return low is not None and high is not None and low > high


def _band_order_message(enter: float, exit_: float) -> str:
    return (
        f"exit ({format_number(exit_)}) must not be above enter ({format_number(enter)}): an "
        "active strategy keeps its place down to exit, a new one needs enter"
    )


def _range_message(minimum: float | None, above: float | None, maximum: float | None) -> str:
    if above is not None and maximum is not None:
        return f"must be more than {format_number(above)} and at most {format_number(maximum)}"
    if minimum is not None and maximum is not None:
        return f"must be between {format_number(minimum)} and {format_number(maximum)}"
    if above is not None:
        return f"must be more than {format_number(above)}"
    if minimum is not None:
        return f"must be at least {format_number(minimum)}"
    return f"must be at most {format_number(maximum or 0.0)}"


def _unknown_choice(what: str, value: object, choices: Iterable[str]) -> str:
    options = list(choices)
    if isinstance(value, str):
        value = value[:100]
    message = f"unknown {what} {show(value)}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
        if close:
            return f"{message}; did you mean '{close[0]}'?"
    return f"{message}; expected one of: {', '.join(options)}"
