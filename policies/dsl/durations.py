"""Durations: a whole number followed by a unit, `30s`, `5m`, `3h`, `60d`."""

from __future__ import annotations

import re

from .limits import MAX_DURATION_SECONDS

UNIT_SECONDS: dict[str, int] = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"([0-9]{1,12})([smhd])")


class DurationError(ValueError):
    """A duration that cannot be read; the message is written for the document's author."""


def parse_duration(value: object) -> int:
    """Seconds in a duration such as `5m`; raises `DurationError` otherwise."""
    text = _as_text(value)
    if _is_bare_number(text):
        raise DurationError(f"needs a unit: write {text}s, {text}m, {text}h or {text}d")
    match = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise DurationError(
            "must be a duration such as 30s, 5m, 3h or 60d: a whole number followed by one of "
            "the units s, m, h, d"
        )
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if seconds > MAX_DURATION_SECONDS:
        raise DurationError(f"is too long (at most {format_duration(MAX_DURATION_SECONDS)})")
    return seconds


def _as_text(value: object) -> object:
    """A whole number of at most 12 digits as its text (so it gets the "needs a unit" hint)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return str(value)
    return value


def _is_bare_number(value: object) -> bool:
    """Digits without a unit, such as `300`."""
    return isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12


def format_duration(seconds: int) -> str:
    """The canonical text of a duration: the largest unit that divides it (`300` → `5m`)."""
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    for unit, size in UNIT_SECONDS.items():
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
