"""The shared field readers, with what only the policy language reads: metric names,
durations, counts and `{long: …, short: …}` maps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fieldreaders import FieldReader, show

from ..durations import DurationError, parse_duration
from ..errors import ErrorCollector, join_key
from ..expressions import is_metric_name
from ..model import SIDES, Side

T = TypeVar("T")

MAX_COUNT = 1_000_000
"""Largest count (`topk.total`, `promote_after`, …): far above any real policy."""

SIDE_NAMES: dict[str, Side] = {side: side for side in SIDES}


class DocumentReader(FieldReader):
    """Reads a policy document; paths quote keys that are not plain names (docs/policy-language.md,
    "Error messages")."""

    errors: ErrorCollector

    def __init__(self) -> None:
        super().__init__(ErrorCollector(), join_key=join_key)

    def count(self, value: object, path: str) -> int | None:
        """A whole number from 1 to `MAX_COUNT`."""
        return self.integer(value, path, minimum=1, maximum=MAX_COUNT)

    def count_at(
        self, section: Mapping[Any, Any], key: str, path: str, *, required: bool = False
    ) -> int | None:
        return self.integer_at(section, key, path, minimum=1, maximum=MAX_COUNT, required=required)

    def metric(self, value: object, path: str) -> str | None:
        """A metric name (docs/policy-language.md, "Numbers, durations and metric names")."""
        if isinstance(value, str) and is_metric_name(value):
            return value
        self.add(
            path,
            f"must be a metric name such as 'sharpe' (letters, digits, '_' and '.', starting "
            f"with a letter or '_'), not {show(value)}",
        )
        return None

    def metric_at(
        self, section: Mapping[Any, Any], key: str, path: str, *, required: bool = False
    ) -> str | None:
        value = section.get(key)
        if value is None:
            if required:
                self.add(self.join_key(path, key), "is required")
            return None
        return self.metric(value, self.join_key(path, key))

    def metric_key(self, name: object, path: str) -> str | None:
        """A mapping key that names a metric (a weight, a threshold override)."""
        if is_metric_name(name):
            return str(name)
        self.add(path, f"{show(name)} is not a metric name")
        return None

    def duration_at(self, section: Mapping[Any, Any], key: str, path: str) -> int | None:
        """Seconds of a duration such as `5m`; None when absent or invalid."""
        value = section.get(key)
        if value is None:
            return None
        try:
            return parse_duration(value)
        except DurationError as exc:
            self.add(self.join_key(path, key), str(exc))
            return None

    def side_map(
        self, value: object, path: str, read_value: Callable[[object, str], T | None]
    ) -> dict[Side, T] | None:
        """A mapping `{long: …, short: …}`; None when invalid (absent gives an empty one)."""
        if value is None:
            return {}
        section = self.mapping(value, path)
        if section is None:
            return None
        return self.entries(section, path, self._side, read_value)

    def _side(self, key: object, path: str) -> Side | None:
        side = SIDE_NAMES.get(key) if isinstance(key, str) else None
        if side is None:
            self.add(path, f"unknown side {show(key)}; use long or short")
        return side
