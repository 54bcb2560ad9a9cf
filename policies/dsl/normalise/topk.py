"""`selection.topk`: how many strategies are kept, in total and by side."""

from __future__ import annotations

from ..model import TopK
from .reader import DocumentReader


def read_topk(read: DocumentReader, value: object, path: str) -> TopK | None:
    section = read.mapping(value, path)
    if section is None:
        return None
    read.check_keys(section, path, ("total", "by_side"))
    total = read.count_at(section, "total", path)
    by_side = read.side_map(section.get("by_side"), read.join_key(path, "by_side"), read.count)
    if section.get("total") is None and not section.get("by_side"):
        read.add(path, "needs total, by_side, or both")
        return None
    if by_side is None or (section.get("total") is not None and total is None):
        return None
    return TopK(total=total, by_side=tuple(sorted(by_side.items())))
