"""`hysteresis`: promotion and demotion counts, a minimum dwell, and enter/exit bands.

The bands may be given as `bands: {metric, enter, exit}` or, as the older form wrote them, inline
(`hysteresis: {metric, enter, exit}`); not both. The counts and the bands are separate parts: one
place may give the counts and another the bands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Bands, format_number
from .parts import Counts, Parts
from .reader import DocumentReader

COUNT_KEYS = ("promote_after", "demote_after", "min_dwell")
BAND_KEYS = ("metric", "enter", "exit")


def read_hysteresis(read: DocumentReader, parts: Parts, value: object, path: str) -> None:
    section = read.mapping(value, path)
    if section is None:
        return
    read.check_keys(section, path, (*COUNT_KEYS, "bands", *BAND_KEYS))
    counts = _counts(read, section, path)
    bands, bands_path = _bands(read, section, path)
    has_bands = section.get("bands") is not None or any(key in section for key in BAND_KEYS)
    if any(key in section for key in COUNT_KEYS) or not has_bands:
        parts.set_counts(counts, path)
    parts.set_bands(bands, bands_path)


def _counts(read: DocumentReader, section: Mapping[Any, Any], path: str) -> Counts:
    """The counts given (each read, so its problems are reported), defaults for the rest."""
    promote = read.count_at(section, "promote_after", path)
    demote = read.count_at(section, "demote_after", path)
    dwell = read.duration_at(section, "min_dwell", path)
    return Counts(promote or 1, demote or 1, dwell or 0)


def _bands(read: DocumentReader, section: Mapping[Any, Any], path: str) -> tuple[Bands | None, str]:
    """The bands, and the path of the place that gives them."""
    bands_path = read.join_key(path, "bands")
    inline = any(key in section for key in BAND_KEYS)
    if section.get("bands") is None:
        if not inline:
            return None, bands_path
        return read_bands(read, section, path), path
    if inline:
        read.add(path, "give the bands either as bands: {metric, enter, exit} or inline, not both")
        return None, bands_path
    nested = read.mapping(section["bands"], bands_path)
    if nested is None:
        return None, bands_path
    read.check_keys(nested, bands_path, BAND_KEYS)
    return read_bands(read, nested, bands_path), bands_path


def read_bands(read: DocumentReader, section: Mapping[Any, Any], path: str) -> Bands | None:
    """`metric`, `enter` and `exit` of `section` (all required)."""
    metric = read.metric_at(section, "metric", path, required=True)
    enter = read.number_at(section, "enter", path, required=True)
    exit_ = read.number_at(section, "exit", path, required=True)
    if metric is None or enter is None or exit_ is None:
        return None
    return ordered_bands(read, metric, enter, exit_, read.join_key(path, "exit"))


def ordered_bands(
    read: DocumentReader, metric: str, enter: float, exit_: float, path: str
) -> Bands | None:
    """The bands, unless exit is above enter (reported at `path`)."""
    if exit_ > enter:
        read.add(
            path,
            f"exit ({format_number(exit_)}) must not be above enter ({format_number(enter)}): an "
            "active strategy keeps its place down to exit, a new one needs enter",
        )
        return None
    return Bands(metric=metric, enter=enter, exit=exit_)
