"""The hysteresis state the engine carries from one evaluation of a world to the next."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class HysteresisState:
    """Per (world, strategy): counters and the last state change, as of the last counted run.

    - `consecutive_pass` / `consecutive_fail`: the current streak of counted evaluations.
    - `active`: whether the engine's last outcome had the strategy in the active set.
    - `last_change_at`: `as_of` of the last PROMOTE or DEMOTE (None: never changed state).
    - `last_counted_as_of`: `as_of` of the last evaluation that advanced the counters.
    """

    consecutive_pass: int = 0
    consecutive_fail: int = 0
    active: bool = False
    last_change_at: datetime | None = None
    last_counted_as_of: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (datetimes as ISO 8601)."""
        return {
            "consecutive_pass": self.consecutive_pass,
            "consecutive_fail": self.consecutive_fail,
            "active": self.active,
            "last_change_at": _iso(self.last_change_at),
            "last_counted_as_of": _iso(self.last_counted_as_of),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HysteresisState:
        """The inverse of `to_dict`; missing keys take their defaults."""
        return cls(
            consecutive_pass=int(data.get("consecutive_pass", 0)),
            consecutive_fail=int(data.get("consecutive_fail", 0)),
            active=bool(data.get("active", False)),
            last_change_at=_parse(data.get("last_change_at")),
            last_counted_as_of=_parse(data.get("last_counted_as_of")),
        )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: object) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"hysteresis state time {value!r} must carry a timezone")
    return parsed
