"""Errors placed in the text: document paths followed to a line and column."""

from __future__ import annotations

import pytest

from policies.dsl import PolicyValidationError, parse_policy_text
from policies.dsl.locations import locate_errors, parse_path


def _located(text: str) -> list[tuple[int | None, int | None, str]]:
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy_text(text)
    return [(e.line, e.column, e.path) for e in locate_errors(text, caught.value.errors)]


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("selection.gates.and[2]", ["selection", "gates", "and", 2]),
        ('preset_overrides["sharpe.min"]', ["preset_overrides", "sharpe.min"]),
        ("yaml", ["yaml"]),
        ("", []),
    ],
)
def test_parse_path__dots_indexes_and_quoted_keys(path, parts):
    assert parse_path(path) == parts


def test_locate__value_errors__at_their_key_or_list_item_in_text_order():
    text = "selction: 1\nselection:\n  gates:\n    and: ['sharpe > 1', 'x >']\n  topk: {total: 0}\n"

    assert _located(text) == [
        (1, 1, "selction"),
        (4, 25, "selection.gates.and[1]"),
        (5, 10, "selection.topk.total"),
    ]


def test_locate__quoted_key__found():
    text = 'preset: conservative\npreset_overrides:\n  "sharpe.min": fast\n'

    assert _located(text) == [(3, 3, 'preset_overrides["sharpe.min"]')]


def test_locate__yaml_syntax_error__line_and_column_from_the_message():
    located = locate_errors("a: [1\n", {"yaml": ["line 2, column 1: expected ',' or ']'"]})

    assert [(e.line, e.column, e.message) for e in located] == [(2, 1, "expected ',' or ']'")]


def test_locate__path_missing_from_text__deepest_existing_part_or_none():
    located = locate_errors(
        "selection:\n  gates: []\n", {"selection.topk.total": ["x"], "policy": ["y"]}
    )

    assert [(e.line, e.column, e.path) for e in located] == [
        (1, 1, "selection.topk.total"),
        (None, None, "policy"),
    ]


def test_locate__unreadable_text__paths_without_place():
    located = locate_errors("a: [\n", {"selection": ["x"]})

    assert [(e.line, e.column) for e in located] == [(None, None)]
