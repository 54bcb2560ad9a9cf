"""`preset` and `preset_overrides`: a named starting policy, changed value by value.

The preset's parts are set first, under the path `preset`, so a later place that sets one of them
is told to use `preset_overrides` instead (docs/policy-language.md, "Presets").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldreaders import unknown_choice

from ..expressions import expression_score
from ..limits import MAX_PRESET_OVERRIDES
from ..model import CorrelationConstraint, MetricRef, TopK
from ..presets import PRESETS, Preset
from .overrides import OVERRIDES_PATH, PresetOverrides
from .parts import PRESET_PATH, Parts
from .reader import DocumentReader
from .thresholds import threshold_gate


def read_preset(read: DocumentReader, parts: Parts, document: Mapping[Any, Any]) -> None:
    name = document.get("preset")
    overrides = document.get("preset_overrides")
    if name is None:
        if overrides is not None:
            read.add(
                OVERRIDES_PATH,
                "needs a preset to change: add preset: sandbox, conservative, moderate or "
                "aggressive",
            )
        return
    if not isinstance(name, str) or name not in PRESETS:
        read.add(PRESET_PATH, unknown_choice("preset", name, PRESETS))
        return
    parts.preset_name = name
    use_preset(parts, _overridden(read, PRESETS[name], overrides))


def _overridden(read: DocumentReader, preset: Preset, value: object) -> Preset:
    overrides = read.mapping(value, OVERRIDES_PATH)
    if overrides is None:
        return preset
    if not read.within(len(overrides), OVERRIDES_PATH, MAX_PRESET_OVERRIDES, "overrides"):
        return preset
    return PresetOverrides(read, preset).apply(overrides)


def use_preset(parts: Parts, preset: Preset) -> None:
    parts.add_gate(threshold_gate(preset.thresholds))
    parts.set_score(expression_score(MetricRef(preset.rank_metric)), PRESET_PATH)
    parts.set_topk(TopK(total=preset.top_k), PRESET_PATH)
    if preset.correlation_max is not None:
        parts.set_correlation(
            CorrelationConstraint(max_pairwise=preset.correlation_max), PRESET_PATH
        )
    parts.set_bands(preset.bands, PRESET_PATH)
