"""The pre-pass: the older WorldService form, rewritten into the current language's parts.

The older form gives a policy's parts in other places and shapes: a `preset` with
`preset_overrides`, and `thresholds`, `top_k`, `correlation` and `hysteresis` at the top or in
`selection` (docs/policy-language.md, "The older form of policies"). This pass reads each of them
and hands the current language's parts (gates, score, top-k, correlation limit, hysteresis) to
`Parts`, labelled with the path they came from, before the current sections are read. A problem
is therefore still reported where the author wrote it, and a part given both ways is reported as
given twice. The rewrite is into the typed parts rather than back into document text, so nothing
is parsed twice and every path stays the author's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..expressions import expression_score
from ..model import CorrelationConstraint, MetricRef, TopK
from .hysteresis import read_hysteresis
from .parts import Parts
from .preset import read_preset
from .reader import DocumentReader
from .thresholds import read_thresholds

OLDER_KEYS = ("thresholds", "top_k", "correlation")
"""The older form's sections, at the top of a document or inside `selection`."""


def lift_older_form(read: DocumentReader, parts: Parts, document: Mapping[Any, Any]) -> None:
    """Every part the older form gives, in the order their gates apply: the preset, the top
    level, then `selection`."""
    read_preset(read, parts, document)
    _older_sections(read, parts, document, "")
    if document.get("hysteresis") is not None:  # the current form keeps it in `selection` only
        read_hysteresis(read, parts, document["hysteresis"], "hysteresis")
    selection = document.get("selection")
    if isinstance(selection, Mapping):
        _older_sections(read, parts, selection, "selection")


def _older_sections(
    read: DocumentReader, parts: Parts, section: Mapping[Any, Any], prefix: str
) -> None:
    if section.get("thresholds") is not None:
        path = read.join_key(prefix, "thresholds")
        parts.add_gate(read_thresholds(read, section["thresholds"], path))
    if section.get("top_k") is not None:
        _top_k(read, parts, section["top_k"], read.join_key(prefix, "top_k"))
    if section.get("correlation") is not None:
        _correlation(read, parts, section["correlation"], read.join_key(prefix, "correlation"))


def _top_k(read: DocumentReader, parts: Parts, value: object, path: str) -> None:
    """`top_k: {metric, k}` is `score: metric` and `topk: {total: k}`."""
    section = read.mapping(value, path)
    if section is None:
        return
    read.check_keys(section, path, ("metric", "k"))
    k = read.count_at(section, "k", path, required=True)
    metric = read.metric_at(section, "metric", path)
    if metric is not None:
        parts.set_score(expression_score(MetricRef(metric)), path)
    if k is not None:
        parts.set_topk(TopK(total=k), path)


def _correlation(read: DocumentReader, parts: Parts, value: object, path: str) -> None:
    """`correlation: {max}` is `constraints: {correlation: {max_pairwise: max}}`."""
    section = read.mapping(value, path)
    if section is None:
        return
    read.check_keys(section, path, ("max",))
    limit = read.number_at(section, "max", path, minimum=0.0, maximum=1.0, required=True)
    if limit is not None:
        parts.set_correlation(CorrelationConstraint(max_pairwise=limit), path)
