"""The shared field readers: what each accepts, and the one wording of what it refuses."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from fieldreaders import FieldErrors, FieldReader, dotted_key, quoted_key


def reader(join_key: Any = quoted_key) -> FieldReader:
    return FieldReader(FieldErrors(root="body"), join_key=join_key)


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        ("1", {}, "must be a number, not text"),
        (True, {}, "must be a number, not true/false"),
        (None, {}, "must be a number, not null"),
        (math.nan, {}, "must be a finite number"),
        (10**400, {}, "is too large"),
        (-0.5, {"minimum": 0.0}, "must be at least 0"),
        (1.5, {"minimum": 0.0, "maximum": 1.0}, "must be between 0 and 1"),
        (0, {"above": 0.0, "maximum": 1.0}, "must be more than 0 and at most 1"),
        (0, {"above": 0.0}, "must be more than 0"),
        (7, {"maximum": 5.0}, "must be at most 5"),
    ],
)
def test_number__refused__one_message_at_its_path(
    value: object, bounds: dict[str, float], message: str
) -> None:
    read = reader()

    assert read.number(value, "weight", **bounds) is None
    assert read.errors.errors == {"weight": [message]}


def test_number__in_range__float() -> None:
    read = reader()

    assert read.number(1, "weight", minimum=0.0, maximum=1.0) == 1.0
    assert not read.errors


@pytest.mark.parametrize(
    ("value", "options", "expected", "message"),
    [
        (3.0, {}, 3, None),
        (3.0, {"whole_floats": False}, None, "must be a whole number, not 3.0"),
        (2.5, {}, None, "must be a whole number, not 2.5"),
        (math.inf, {}, None, "must be a whole number"),
        (False, {}, None, "must be a whole number, not true/false"),
        (0, {}, None, "must be at least 1"),
        (9, {"maximum": 5}, None, "must be at most 5"),
    ],
)
def test_integer__value__read_or_worded(
    value: object, options: dict[str, Any], expected: int | None, message: str | None
) -> None:
    read = reader()

    assert read.integer(value, "n", minimum=1, **options) == expected
    assert read.errors.errors == ({"n": [message]} if message else {})


def test_text__each_rule__its_message() -> None:
    read = reader()
    pattern = re.compile(r"[a-z]+")

    results = [
        read.text(7, "a", max_length=3),
        read.text("", "b", max_length=3),
        read.text("abcd", "c", max_length=3),
        read.text("ab1", "d", max_length=3, pattern=pattern, mismatch="must be letters"),
        read.text("ab\n", "e", max_length=3, pattern=pattern, mismatch="must be letters"),
        read.text("", "f", max_length=3, allow_empty=True),
    ]

    assert results == [None, None, None, None, None, ""]
    assert read.errors.errors == {
        "a": ["must be text, not a number"],
        "b": ["must not be empty"],
        "c": ["must be at most 3 characters"],
        "d": ["must be letters"],
        "e": ["must be letters"],
    }


def test_boolean_and_choice__wrong_values__worded() -> None:
    read = reader()

    assert read.boolean("true", "active") is None
    assert read.choice("up", "side", ("long", "short")) is None
    assert read.boolean(False, "freeze") is False
    assert read.errors.errors == {
        "active": ["must be true or false, not text"],
        "side": ["must be long or short, not 'up'"],
    }


def test_check_keys__near_miss__suggests_the_key() -> None:
    read = reader()

    read.check_keys({"selction": 1, "zzz": 2}, "", ("selection", "sample"))

    assert read.errors.errors == {
        "selction": ["unknown key 'selction'; did you mean 'selection'?"],
        "zzz": ["unknown key 'zzz'; expected one of: selection, sample"],
    }


def test_mapping__null__absent_unless_not_nullable() -> None:
    read = reader()

    assert read.mapping(None, "a") is None
    assert read.mapping(None, "b", required=True) is None
    assert read.mapping(None, "c", nullable=False) is None
    assert read.mapping({1: "x"}, "d", text_keys=True) is None
    assert read.errors.errors == {
        "b": ["is required"],
        "c": ["must be a mapping, not null"],
        "d": ["keys must be text"],
    }


def test_items__over_the_bound__refused_before_any_item_is_read() -> None:
    read = reader()
    seen: list[object] = []

    def read_item(value: object, path: str) -> object:
        seen.append(value)
        return value

    assert read.items([1, 2, 3], "xs", read_item, limit=2, noun="returns") is None
    assert seen == []
    assert read.errors.errors == {"xs": ["at most 2 returns (this has 3)"]}


def test_items__bad_item__reported_at_its_index() -> None:
    read = reader()

    assert read.items([0.1, "x"], "xs", read.number, limit=5, noun="returns") is None
    assert read.errors.errors == {"xs[1]": ["must be a number, not text"]}


@pytest.mark.parametrize(
    ("join_key", "expected"),
    [(quoted_key, 'prices["E S"]'), (dotted_key, "prices.E S")],
)
def test_entries__bad_key__path_in_the_reader_style(join_key: Any, expected: str) -> None:
    read = reader(join_key)

    def no_space(key: object, path: str) -> str | None:
        if isinstance(key, str) and " " not in key:
            return key
        read.add(path, "must not contain whitespace")
        return None

    assert read.entries({"E S": 1, "ES": 2}, "prices", no_space, read.number) is None
    assert read.errors.errors == {expected: ["must not contain whitespace"]}


def test_fields__absent_and_null__skipped_others_read() -> None:
    read = reader(dotted_key)

    values = read.fields(
        {"a": 1, "b": None, "c": "x"},
        "body",
        {"a": read.number, "b": read.number, "c": read.boolean, "d": read.number},
    )

    assert values is None
    assert read.errors.errors == {"body.c": ["must be true or false, not text"]}


def test_errors__same_message_twice__kept_once_empty_path_at_root() -> None:
    errors = FieldErrors(root="non_field_errors")

    errors.add("", "must be a mapping, not a list")
    errors.add("", "must be a mapping, not a list")

    assert errors.errors == {"non_field_errors": ["must be a mapping, not a list"]}
    assert len(errors) == 1
