"""`selection.score`: an expression, or `{weights: {metric: weight}}`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldreaders import describe_type

from ..expressions import ExpressionError, parse_score_expression
from ..model import Score, WeightedScore
from .reader import DocumentReader


def read_score(read: DocumentReader, value: object, path: str) -> Score | None:
    if isinstance(value, str):
        try:
            return parse_score_expression(value)
        except ExpressionError as exc:
            read.add(path, str(exc))
            return None
    if isinstance(value, Mapping):
        return _weighted(read, value, path)
    read.add(
        path,
        "must be an expression such as 'sharpe + 0.1 * win_rate', or "
        f"{{weights: {{metric: weight}}}}; found {describe_type(value)}",
    )
    return None


def _weighted(read: DocumentReader, section: Mapping[Any, Any], path: str) -> Score | None:
    read.check_keys(section, path, ("weights",))
    weights_path = read.join_key(path, "weights")
    weights = read.mapping(section.get("weights"), weights_path, required=True)
    if weights is None:
        return None
    if not weights:
        read.add(weights_path, "needs at least one metric and its weight")
        return None
    pairs = read.entries(weights, weights_path, read.metric_key, read.number)
    if pairs is None:
        return None
    return WeightedScore(weights=tuple(sorted(pairs.items())))
