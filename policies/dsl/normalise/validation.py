"""`validation`: what happens when a metric a policy needs is missing."""

from __future__ import annotations

from typing import cast

from ..model import OnMissingMetric, Validation
from .reader import DocumentReader

ON_MISSING_METRIC = ("fail", "warn", "ignore")


def read_validation(read: DocumentReader, value: object, path: str) -> Validation:
    section = read.mapping(value, path)
    if section is None:
        return Validation()
    read.check_keys(section, path, ("on_missing_metric",))
    raw = section.get("on_missing_metric")
    if raw is None:
        return Validation()
    choice = read.choice(raw, read.join_key(path, "on_missing_metric"), ON_MISSING_METRIC)
    if choice is None:
        return Validation()
    return Validation(on_missing_metric=cast(OnMissingMetric, choice))
