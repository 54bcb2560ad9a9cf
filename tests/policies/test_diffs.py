"""The side-by-side diff of two policy texts."""

from __future__ import annotations

from policies.diffs import side_by_side


def _rows(before: str, after: str) -> list[tuple[str, int | None, int | None]]:
    return [(r.kind, r.left_number, r.right_number) for r in side_by_side(before, after).rows]


def test_side_by_side__identical__all_equal():
    diff = side_by_side("a\nb\n", "a\nb\n")

    assert diff.identical
    assert [row.kind for row in diff.rows] == ["equal", "equal"]


def test_side_by_side__changed_block_longer_on_the_right__changed_then_added():
    assert _rows("a\nb\nz\n", "a\nB\nC\nz\n") == [
        ("equal", 1, 1),
        ("changed", 2, 2),
        ("added", None, 3),
        ("equal", 3, 4),
    ]


def test_side_by_side__removed_lines__left_only_and_counted():
    diff = side_by_side("a\nb\nc\n", "a\n")

    assert _rows("a\nb\nc\n", "a\n") == [
        ("equal", 1, 1),
        ("removed", 2, None),
        ("removed", 3, None),
    ]
    assert (diff.removed, diff.added) == (2, 0)


def test_side_by_side__from_nothing__every_line_added():
    diff = side_by_side("", "x\ny\n")

    assert [row.kind for row in diff.rows] == ["added", "added"]
    assert (diff.removed, diff.added) == (0, 2)
