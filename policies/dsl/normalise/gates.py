"""`selection.gates`: comparisons, lists of gates (`and`) and `{and: […]}` / `{or: […]}` groups.

Bounded by `MAX_GATES` comparisons and `MAX_GATE_DEPTH` levels (docs/policy-language.md,
"Limits").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldreaders import describe_type, join_index, unknown_choice

from ..expressions import ExpressionError, parse_comparison
from ..limits import MAX_GATE_DEPTH, MAX_GATES
from ..model import AllOf, AnyOf, Gate
from .reader import DocumentReader

GROUP_KEYS = ("and", "or")
_EXAMPLE_GATE = "'sharpe >= 0.6'"


class GateReader:
    """Reads one gates section, counting its comparisons against `MAX_GATES`."""

    def __init__(self, read: DocumentReader) -> None:
        self.read = read
        self.comparisons = 0

    def gate(self, value: object, path: str, depth: int = 1) -> Gate | None:
        if depth > MAX_GATE_DEPTH:
            self.read.add(
                path, f"gates are nested too deeply (at most {MAX_GATE_DEPTH} levels of and/or)"
            )
            return None
        if isinstance(value, str):
            return self.comparison(value, path)
        if isinstance(value, list):
            children = self.gate_list(value, path, depth)
            return AllOf(children) if children is not None else None
        if isinstance(value, Mapping):
            return self.group(value, path, depth)
        self.read.add(
            path,
            f"a gate must be a comparison such as {_EXAMPLE_GATE}, a list of gates, or a "
            f"mapping with one key 'and' or 'or'; found {describe_type(value)}",
        )
        return None

    def comparison(self, value: str, path: str) -> Gate | None:
        self.comparisons += 1
        if self.comparisons > MAX_GATES:
            if self.comparisons == MAX_GATES + 1:  # said once, at the first one too many
                self.read.add(path, f"too many gates (at most {MAX_GATES} comparisons)")
            return None
        try:
            return parse_comparison(value)
        except ExpressionError as exc:
            self.read.add(path, str(exc))
            return None

    def group(self, value: Mapping[Any, Any], path: str, depth: int) -> Gate | None:
        """`{and: [gates]}` or `{or: [gates]}`."""
        key = self.group_key(value, path)
        if key is None:
            return None
        children_value = value[key]
        children_path = self.read.join_key(path, key)
        if not isinstance(children_value, list):
            self.read.add(
                children_path, f"must be a list of gates, not {describe_type(children_value)}"
            )
            return None
        children = self.gate_list(children_value, children_path, depth)
        if children is None:
            return None
        return AllOf(children) if key == "and" else AnyOf(children)

    def group_key(self, value: Mapping[Any, Any], path: str) -> str | None:
        """The one key of a group mapping, `and` or `or`."""
        unknown = [key for key in value if key not in GROUP_KEYS]
        for key in unknown:
            self.read.add(self.read.join_key(path, key), unknown_choice("key", key, GROUP_KEYS))
        if unknown:
            return None
        if len(value) != 1:
            self.read.add(
                path,
                "needs exactly one key, 'and' or 'or'"
                + ("; to mix them, put one inside the other" if value else ""),
            )
            return None
        return str(next(iter(value)))

    def gate_list(self, items: list[Any], path: str, depth: int) -> tuple[Gate, ...] | None:
        if not items:
            self.read.add(path, "needs at least one gate")
            return None
        children: list[Gate] = []
        for index, item in enumerate(items):
            child = self.gate(item, join_index(path, index), depth + 1)
            if child is not None:
                children.append(child)
        return tuple(children) if len(children) == len(items) else None
