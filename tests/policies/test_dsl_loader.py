"""load_document: YAML and JSON text to plain data, with every hostile shape refused quickly."""

from __future__ import annotations

import time

import pytest
import yaml

from policies.dsl import PolicyValidationError, load_document, parse_policy_text
from policies.dsl.limits import MAX_ALIASES, MAX_DEPTH, MAX_DOCUMENT_CHARS

# An unguarded billion-laughs document takes minutes and gigabytes; seconds tell the guard held
# even on a loaded CI host.
QUICK_SECONDS = 5.0


def yaml_error(text: str) -> str:
    with pytest.raises(PolicyValidationError) as caught:
        load_document(text)
    assert list(caught.value.errors) == ["yaml"]
    [message] = caught.value.errors["yaml"]
    return message


def refused_quickly(text: str) -> str:
    started = time.perf_counter()
    message = yaml_error(text)
    assert time.perf_counter() - started < QUICK_SECONDS
    return message


@pytest.fixture(params=["with libyaml", "pure python"])
def loader_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test with and without the libyaml pre-check, so the pure-Python guard is tested."""
    if request.param == "pure python":
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    return str(request.param)


def test_load_document__yaml_mapping__returns_plain_data() -> None:
    text = "selection:\n  gates: ['sharpe >= 0.6']\n  topk: {total: 3}\n"

    assert load_document(text) == {"selection": {"gates": ["sharpe >= 0.6"], "topk": {"total": 3}}}


def test_load_document__json__returns_plain_data() -> None:
    text = '{"selection": {"topk": {"total": 3}}, "sample": {"min_days": 1.5}}'

    assert load_document(text) == {"selection": {"topk": {"total": 3}}, "sample": {"min_days": 1.5}}


def test_load_document__json_without_space_after_colon__reads() -> None:
    assert load_document('{"a":1,"b":[1,2]}') == {"a": 1, "b": [1, 2]}


@pytest.mark.parametrize(
    ("literal", "expected"),
    [("1e5", 1e5), ("1E-3", 1e-3), ("-2.5e+2", -250.0), (".5e1", 5.0), ("1.0e+5", 1e5)],
)
def test_load_document__json_exponent_number__reads_as_float(literal: str, expected: float) -> None:
    assert load_document(f'{{"x": {literal}}}') == {"x": expected}


def test_load_document__yaml_merge_key__is_applied() -> None:
    text = "base: &b {min: 1}\nthresholds:\n  sharpe:\n    <<: *b\n    max: 2\n"

    assert load_document(text)["thresholds"] == {"sharpe": {"min": 1, "max": 2}}


def test_load_document__syntax_error__reports_line_and_column_from_one() -> None:
    message = yaml_error("selection:\n  gates: [a, b\n")

    assert message.startswith("line 3, column 1: ")


def test_load_document__bad_indentation__reports_line_and_column() -> None:
    message = yaml_error("a:\n  - b\n c: 1\n")

    assert message.startswith("line 3, column 2: expected <block end>")


def test_load_document__duplicate_key__is_refused_with_position() -> None:
    assert yaml_error("sample: {}\nsample: {}\n") == "line 2, column 1: duplicate key 'sample'"


def test_load_document__duplicate_json_key__is_refused() -> None:
    message = yaml_error('{"a": {"min": 1, "min": 2}}')

    assert message == "line 1, column 18: duplicate key 'min'"


def test_load_document__python_tag__is_refused() -> None:
    message = yaml_error("a: !!python/object/apply:os.system ['true']\n")

    assert message.startswith("line 1, column 4: could not determine a constructor for the tag")


def test_load_document__out_of_range_date__is_refused_with_position() -> None:
    assert (
        yaml_error("a: 2024-13-45\n") == "line 1, column 4: cannot read '2024-13-45' as timestamp"
    )


def test_load_document__integer_with_thousands_of_digits__is_refused() -> None:
    assert yaml_error("a: " + "9" * 5000).startswith("line 1, column 4: cannot read '999")


def test_load_document__control_character__is_refused_with_position() -> None:
    message = yaml_error("a: 1\nb: \x07\n")

    assert message.startswith("line 2, column 4: the character #x0007 is not allowed")


def test_load_document__two_documents__are_refused() -> None:
    assert yaml_error("a: 1\n---\nb: 2\n").startswith("line 2, column 1: ")


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "---\n", "null\n", "~"])
def test_load_document__empty__is_refused(text: str) -> None:
    assert yaml_error(text) == "the document is empty; it must be a mapping of sections"


@pytest.mark.parametrize(
    ("text", "kind"), [("[1, 2]", "a list"), ("- a\n", "a list"), ("hello", "a single value")]
)
def test_load_document__top_level_not_a_mapping__is_refused(text: str, kind: str) -> None:
    assert yaml_error(text) == (
        f"line 1, column 1: the document must be a mapping of sections, not {kind}"
    )


def test_load_document__mapping_tagged_as_set__is_refused() -> None:
    assert yaml_error("!!set {a, b}") == "the document must be a mapping of sections"


def test_load_document__not_text__is_refused() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        load_document(b"a: 1")

    assert caught.value.errors == {"yaml": ["the document must be text"]}


def test_load_document__too_large__is_refused_before_parsing() -> None:
    text = "a: '" + "x" * MAX_DOCUMENT_CHARS + "'"

    message = refused_quickly(text)

    assert message == (
        f"the document is too large ({len(text)} characters; at most {MAX_DOCUMENT_CHARS})"
    )


@pytest.mark.parametrize(
    "text",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a": ' * 10_000 + "1" + "}" * 10_000,
        "{a: " * 10_000 + "1" + "}" * 10_000,
        "a:\n" + "- " * 10_000 + "x\n",
        "a: " + "[" * 10_000 + "]" * 10_000,
    ],
    ids=["json-lists", "json-objects", "yaml-flow-mappings", "yaml-block-lists", "nested-value"],
)
def test_load_document__ten_thousand_levels_deep__refused_quickly(
    text: str, loader_mode: str
) -> None:
    message = refused_quickly(text)

    assert message.endswith(f"the document is nested too deeply (more than {MAX_DEPTH} levels)")
    assert message.startswith("line 1, column ") or message.startswith("line 2, column ")


def test_load_document__exactly_the_depth_limit__is_accepted(loader_mode: str) -> None:
    # The top-level mapping is level 1, its value level 2, and each list one more.
    depth_of_lists = MAX_DEPTH - 2
    text = "a: " + "[" * depth_of_lists + "]" * depth_of_lists

    assert "a" in load_document(text)


def test_load_document__one_level_over_the_depth_limit__is_refused(loader_mode: str) -> None:
    depth_of_lists = MAX_DEPTH - 1
    text = "a: " + "[" * depth_of_lists + "1" + "]" * depth_of_lists

    assert yaml_error(text).endswith(f"nested too deeply (more than {MAX_DEPTH} levels)")


BILLION_LAUGHS = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]",
        "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]",
        "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]",
        "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]",
    ]
)


def test_load_document__billion_laughs__refused_quickly(loader_mode: str) -> None:
    message = refused_quickly(BILLION_LAUGHS)

    assert "too many values" in message or "too many aliases" in message


def test_parse_policy_text__billion_laughs__refused_under_yaml_path() -> None:
    started = time.perf_counter()
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy_text(BILLION_LAUGHS)

    assert time.perf_counter() - started < QUICK_SECONDS
    assert list(caught.value.errors) == ["yaml"]


def test_load_document__many_aliases__refused() -> None:
    lines = ["x: &x 1"] + [f"k{i}: *x" for i in range(MAX_ALIASES + 1)]

    message = refused_quickly("\n".join(lines))

    assert message.endswith(f"the document uses too many aliases (more than {MAX_ALIASES})")


def test_load_document__a_few_aliases__are_accepted() -> None:
    text = "g: &g ['sharpe >= 1']\nh: *g\n"

    assert load_document(text) == {"g": ["sharpe >= 1"], "h": ["sharpe >= 1"]}


def test_load_document__alias_inside_its_own_value__refused() -> None:
    message = yaml_error("a: &a [1, *a]\n")

    assert message == "line 1, column 11: an alias may not refer to a value containing it"


def test_load_document__alias_deepens_past_the_limit__refused() -> None:
    half = MAX_DEPTH // 2 + 2
    text = f"a: &a {'[' * half}{']' * half}\nb: {'[' * half}*a{']' * half}\n"

    assert "once this alias is expanded" in yaml_error(text)
