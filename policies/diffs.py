"""A side-by-side diff of two policy texts, line by line, for the admin's review pages."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import zip_longest
from typing import Literal

Kind = Literal["equal", "changed", "removed", "added"]


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row: the line before (left) beside the line after (right); a side may be empty."""

    kind: Kind
    left_number: int | None
    left: str
    right_number: int | None
    right: str


@dataclass(frozen=True, slots=True)
class SideBySide:
    rows: tuple[DiffRow, ...]
    added: int
    removed: int

    @property
    def identical(self) -> bool:
        return self.added == 0 and self.removed == 0


def side_by_side(before: str, after: str) -> SideBySide:
    """Pair the lines of `before` and `after`: unchanged lines side by side, changed blocks
    row by row (a longer side continues as removed or added lines)."""
    rows = tuple(_rows(before.splitlines(), after.splitlines()))
    kinds = [row.kind for row in rows]
    changed = kinds.count("changed")
    return SideBySide(
        rows=rows,
        added=changed + kinds.count("added"),
        removed=changed + kinds.count("removed"),
    )


def _rows(left: list[str], right: list[str]) -> Iterator[DiffRow]:
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                yield DiffRow("equal", i + 1, left[i], j + 1, right[j])
        else:
            for i, j in zip_longest(range(i1, i2), range(j1, j2)):
                yield _changed_row(left, right, i, j)


def _changed_row(left: list[str], right: list[str], i: int | None, j: int | None) -> DiffRow:
    if i is None and j is not None:
        return DiffRow("added", None, "", j + 1, right[j])
    if j is None and i is not None:
        return DiffRow("removed", i + 1, left[i], None, "")
    if i is None or j is None:  # zip_longest never yields two Nones
        raise ValueError("a diff row needs at least one side")
    return DiffRow("changed", i + 1, left[i], j + 1, right[j])
