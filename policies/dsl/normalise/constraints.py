"""`selection.constraints`: the correlation limit and the exposure budget."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import CorrelationConstraint, ExposureConstraint
from .parts import Parts
from .reader import DocumentReader


def read_constraints(
    read: DocumentReader, parts: Parts, section: Mapping[Any, Any], path: str
) -> None:
    read.check_keys(section, path, ("correlation", "exposure"))
    correlation_path = read.join_key(path, "correlation")
    parts.set_correlation(
        read_correlation(read, section.get("correlation"), correlation_path), correlation_path
    )
    exposure_path = read.join_key(path, "exposure")
    parts.set_exposure(read_exposure(read, section.get("exposure"), exposure_path), exposure_path)


def read_correlation(
    read: DocumentReader, value: object, path: str
) -> CorrelationConstraint | None:
    section = read.mapping(value, path)
    if section is None:
        return None
    read.check_keys(section, path, ("max_pairwise",))
    limit = read.number_at(section, "max_pairwise", path, minimum=0.0, maximum=1.0, required=True)
    return CorrelationConstraint(max_pairwise=limit) if limit is not None else None


def read_exposure(read: DocumentReader, value: object, path: str) -> ExposureConstraint | None:
    section = read.mapping(value, path)
    if section is None:
        return None
    read.check_keys(section, path, ("gross_budget", "max_weight"))
    budget = read.side_map(
        section.get("gross_budget"),
        read.join_key(path, "gross_budget"),
        lambda v, p: read.number(v, p, minimum=0.0, maximum=1.0),
    )
    max_weight = read.number_at(section, "max_weight", path, above=0.0, maximum=1.0)
    weight_ok = section.get("max_weight") is None or max_weight is not None
    if budget is None or not weight_ok:
        return None
    return ExposureConstraint(gross_budget=tuple(sorted(budget.items())), max_weight=max_weight)
