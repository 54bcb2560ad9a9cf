"""Properties over generated documents: valid policies round-trip; junk only ever gives
PolicyValidationError."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.dsl import (
    SIDES,
    AllOf,
    AnyOf,
    Bands,
    BinaryOp,
    Call,
    Comparison,
    Constraints,
    CorrelationConstraint,
    DataCurrency,
    ExposureConstraint,
    Expr,
    Gate,
    Hysteresis,
    MetricRef,
    Negate,
    Number,
    Policy,
    PolicyValidationError,
    Sample,
    Selection,
    TopK,
    Validation,
    WeightedScore,
    dump_policy_yaml,
    expression_score,
    parse_expression,
    parse_policy,
    parse_policy_text,
    policy_to_dict,
    render_expression,
    summarize_gates,
)
from policies.dsl.limits import (
    MAX_DURATION_SECONDS,
    MAX_EXPRESSION_CHARS,
    MAX_EXPRESSION_DEPTH,
    MAX_GATE_DEPTH,
)
from policies.dsl.normalise import SELECTION_KEYS, TOP_LEVEL_KEYS

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

metric_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,24}", fullmatch=True)
finite = st.floats(allow_nan=False, allow_infinity=False)
unit_interval = st.floats(min_value=0.0, max_value=1.0)
counts = st.integers(min_value=1, max_value=1_000_000)
durations = st.integers(min_value=0, max_value=MAX_DURATION_SECONDS)
comparisons = st.builds(
    Comparison,
    metric=metric_names,
    op=st.sampled_from([">=", "<=", ">", "<", "==", "!="]),
    value=finite,
)


def gate_depth(gate: Gate) -> int:
    if isinstance(gate, Comparison):
        return 0
    return 1 + max(gate_depth(child) for child in gate.children)


gates: st.SearchStrategy[Gate] = st.recursive(
    comparisons,
    lambda children: st.one_of(
        st.builds(AllOf, st.lists(children, min_size=1, max_size=4).map(tuple)),
        st.builds(AnyOf, st.lists(children, min_size=1, max_size=4).map(tuple)),
    ),
    max_leaves=12,
).filter(lambda gate: gate_depth(gate) <= MAX_GATE_DEPTH)


def expr_height(expr: Expr) -> int:
    if isinstance(expr, Negate):
        return 1 + expr_height(expr.operand)
    if isinstance(expr, BinaryOp):
        return 1 + max(expr_height(expr.left), expr_height(expr.right))
    if isinstance(expr, Call):
        return 1 + max(expr_height(arg) for arg in expr.args)
    return 1


def calls(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    single = st.builds(Call, st.sampled_from(["abs", "log", "sqrt"]), st.tuples(children))
    several = st.builds(
        Call, st.sampled_from(["min", "max"]), st.lists(children, min_size=2, max_size=3).map(tuple)
    )
    return single | several


exprs: st.SearchStrategy[Expr] = st.recursive(
    st.builds(Number, finite) | st.builds(MetricRef, metric_names),
    lambda children: st.one_of(
        st.builds(Negate, children),
        st.builds(BinaryOp, st.sampled_from(["+", "-", "*", "/"]), children, children),
        calls(children),
    ),
    max_leaves=10,
).filter(
    lambda expr: (
        expr_height(expr) <= MAX_EXPRESSION_DEPTH
        and len(render_expression(expr)) <= MAX_EXPRESSION_CHARS
    )
)

weighted_scores = st.dictionaries(metric_names, finite, min_size=1, max_size=4).map(
    lambda weights: WeightedScore(tuple(sorted(weights.items())))
)
scores = exprs.map(expression_score) | weighted_scores


def side_maps(values: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[tuple[Any, Any], ...]]:
    return st.dictionaries(st.sampled_from(SIDES), values).map(
        lambda mapping: tuple(sorted(mapping.items()))
    )


topks = st.builds(TopK, total=st.none() | counts, by_side=side_maps(counts)).filter(
    lambda topk: topk.total is not None or bool(topk.by_side)
)
bands = st.tuples(metric_names, finite, finite).map(
    lambda t: Bands(metric=t[0], enter=max(t[1], t[2]), exit=min(t[1], t[2]))
)
hysteresis = st.builds(
    Hysteresis,
    promote_after=counts,
    demote_after=counts,
    min_dwell_seconds=durations,
    bands=st.none() | bands,
)
constraints = st.builds(
    Constraints,
    correlation=st.none() | st.builds(CorrelationConstraint, unit_interval),
    exposure=st.none()
    | st.builds(
        ExposureConstraint,
        gross_budget=side_maps(unit_interval),
        max_weight=st.none() | st.floats(min_value=0.0, max_value=1.0, exclude_min=True),
    ),
)
non_negative = st.none() | st.floats(min_value=0.0, allow_infinity=False)
policies = st.builds(
    Policy,
    data_currency=st.builds(
        DataCurrency,
        max_lag_seconds=st.none() | durations,
        min_history_seconds=st.none() | durations,
    ),
    sample=st.builds(Sample, min_days=non_negative, min_trades=non_negative, min_bars=non_negative),
    selection=st.builds(
        Selection,
        gates=st.none() | gates,
        score=st.none() | scores,
        topk=st.none() | topks,
        constraints=constraints,
        hysteresis=st.none() | hysteresis,
    ),
    validation=st.builds(Validation, st.sampled_from(["fail", "warn", "ignore"])),
)


@PROPERTY_SETTINGS
@given(policies)
def test_parse_policy__canonical_dict_of_any_policy__round_trips(policy: Policy) -> None:
    assert parse_policy(policy_to_dict(policy)) == policy


@PROPERTY_SETTINGS
@given(policies)
def test_parse_policy_text__canonical_yaml_and_json__round_trip(policy: Policy) -> None:
    text = dump_policy_yaml(policy)
    as_json = json.dumps(policy_to_dict(policy), allow_nan=False)

    assert parse_policy_text(text) == policy
    assert parse_policy_text(as_json) == policy
    assert dump_policy_yaml(parse_policy_text(text)) == text


@PROPERTY_SETTINGS
@given(policies)
def test_summarize_gates__any_policy__is_one_line(policy: Policy) -> None:
    summary = summarize_gates(policy)

    assert summary
    assert "\n" not in summary


@PROPERTY_SETTINGS
@given(exprs)
def test_render_expression__any_tree__parses_back_to_the_same_tree(expr: Expr) -> None:
    assert parse_expression(render_expression(expr)) == expr


# --- junk --------------------------------------------------------------------------------------

KNOWN_KEYS = sorted(
    {
        *TOP_LEVEL_KEYS,
        *SELECTION_KEYS,
        "and",
        "or",
        "weights",
        "total",
        "by_side",
        "long",
        "short",
        "max_pairwise",
        "exposure",
        "gross_budget",
        "max_weight",
        "promote_after",
        "demote_after",
        "min_dwell",
        "bands",
        "metric",
        "enter",
        "exit",
        "min",
        "max",
        "k",
        "max_lag",
        "min_history",
        "min_days",
        "min_trades",
        "min_bars",
        "on_missing_metric",
        "sharpe",
        "sharpe.min",
        "top_k.k",
        "hysteresis.enter",
        "correlation.max",
    }
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**500), max_value=10**500),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(
        ["sharpe >= 0.6", "5m", "fail", "moderate", "sandbox", "a +", "exp(x)", "1e999", "long"]
    ),
)
junk = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(KNOWN_KEYS) | st.text(max_size=8) | st.integers(), children, max_size=5
        )
    ),
    max_leaves=30,
)


def parses_or_explains(document: Any) -> None:
    try:
        policy = parse_policy(document)
    except PolicyValidationError as exc:
        assert exc.errors
        assert all(isinstance(path, str) and messages for path, messages in exc.errors.items())
        json.dumps(exc.errors)
    else:
        assert parse_policy(policy_to_dict(policy)) == policy


@PROPERTY_SETTINGS
@given(junk)
def test_parse_policy__random_nested_values__only_raise_validation_errors(document: Any) -> None:
    parses_or_explains(document)


@PROPERTY_SETTINGS
@given(st.dictionaries(st.sampled_from(KNOWN_KEYS), junk, max_size=6))
def test_parse_policy__random_sections__only_raise_validation_errors(document: Any) -> None:
    parses_or_explains(document)


@PROPERTY_SETTINGS
@given(
    st.dictionaries(
        st.just("selection"),
        st.dictionaries(st.sampled_from(SELECTION_KEYS), junk, max_size=4),
    )
)
def test_parse_policy__random_selection__only_raises_validation_errors(document: Any) -> None:
    parses_or_explains(document)


yaml_pieces = st.sampled_from(
    [
        "{",
        "}",
        "[",
        "]",
        ":",
        ": ",
        "- ",
        ",",
        "&a ",
        "*a",
        "\n",
        "  ",
        "\t",
        "a",
        "1",
        "1e5",
        "'",
        '"',
        "!!str ",
        "!!python/object ",
        "? ",
        "#",
        "|",
        ">",
        "%",
        "@",
        "`",
        "<<: ",
        "---",
        "...",
        "sharpe >= 1",
        "selection",
        "gates",
        "\\u0000",
        "\x00",
        "\ud800",
        "é",
        "~",
    ]
)


@PROPERTY_SETTINGS
@given(st.text() | st.lists(yaml_pieces, max_size=40).map("".join))
def test_parse_policy_text__random_text__only_raises_validation_errors(text: str) -> None:
    try:
        parse_policy_text(text)
    except PolicyValidationError as exc:
        assert exc.errors


def test_parse_policy__not_a_number_everywhere__is_never_accepted() -> None:
    # NaN compares false with everything, so it must not slip through a range check.
    for document in (
        {"sample": {"min_days": math.nan}},
        {"selection": {"constraints": {"correlation": {"max_pairwise": math.nan}}}},
        {"preset": "moderate", "preset_overrides": {"sharpe.min": math.nan}},
        {"selection": {"hysteresis": {"bands": {"metric": "a", "enter": math.nan, "exit": 0}}}},
    ):
        try:
            parse_policy(document)
        except PolicyValidationError as exc:
            assert "must be a finite number" in str(exc)
        else:
            raise AssertionError(f"accepted {document}")
