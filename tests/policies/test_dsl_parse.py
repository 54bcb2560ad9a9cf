"""parse_policy on the current language: every construct and every error path.

The language: docs/policy-language.md#2-the-sections-one-by-one.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.dsl import (
    AllOf,
    AnyOf,
    Bands,
    BinaryOp,
    Comparison,
    Constraints,
    CorrelationConstraint,
    DataCurrency,
    ExposureConstraint,
    ExpressionScore,
    Hysteresis,
    MetricRef,
    Number,
    Policy,
    PolicyValidationError,
    Sample,
    Selection,
    TopK,
    Validation,
    WeightedScore,
    parse_policy,
    parse_policy_text,
)
from policies.dsl.limits import MAX_GATE_DEPTH


def errors_of(document: Any) -> dict[str, list[str]]:
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(document)
    return caught.value.errors


def selection_of(selection: dict[str, Any]) -> Selection:
    return parse_policy({"selection": selection}).selection


SPEC_DOCUMENT = """
data_currency:
  max_lag: 5m            # now − latest data end ≤ max_lag, else the world decides compute-only
  min_history: 60d       # strategies with less history are "insufficient"
sample:                  # sample sufficiency, checked before gates
  min_days: 30           # metric sample_days
  min_trades: 40         # metric trades (alias n_trades_total)
  min_bars: 500          # metric bars
selection:
  gates:                 # boolean tree; a bare list means and
    and:
      - "sharpe >= 0.6"
      - "max_drawdown <= 0.25"
      - or: ["win_rate >= 0.5", "profit_factor >= 1.3"]
  score: "sharpe + 0.1 * win_rate - 0.2 * ulcer"   # or {weights: {sharpe: 1.0, win_rate: 0.1}}
  topk: {total: 8, by_side: {long: 5, short: 3}}
  constraints:
    correlation: {max_pairwise: 0.8}
    exposure: {gross_budget: {long: 0.6, short: 0.4}, max_weight: 0.25}
  hysteresis:
    promote_after: 2     # consecutive passing evaluations before a new strategy is promoted
    demote_after: 2      # consecutive failing evaluations before an active strategy is demoted
    min_dwell: 3h        # minimum time in a state before it may change
    bands: {metric: sharpe, enter: 0.6, exit: 0.4}   # optional enter/exit levels
validation:
  on_missing_metric: fail   # fail | warn | ignore
"""

SPEC_POLICY = Policy(
    data_currency=DataCurrency(max_lag_seconds=300, min_history_seconds=60 * 86400),
    sample=Sample(min_days=30.0, min_trades=40.0, min_bars=500.0),
    selection=Selection(
        gates=AllOf(
            (
                Comparison("sharpe", ">=", 0.6),
                Comparison("max_drawdown", "<=", 0.25),
                AnyOf((Comparison("win_rate", ">=", 0.5), Comparison("profit_factor", ">=", 1.3))),
            )
        ),
        score=ExpressionScore(
            expr=BinaryOp(
                "-",
                BinaryOp(
                    "+", MetricRef("sharpe"), BinaryOp("*", Number(0.1), MetricRef("win_rate"))
                ),
                BinaryOp("*", Number(0.2), MetricRef("ulcer")),
            ),
            source="sharpe + 0.1 * win_rate - 0.2 * ulcer",
        ),
        topk=TopK(total=8, by_side=(("long", 5), ("short", 3))),
        constraints=Constraints(
            correlation=CorrelationConstraint(max_pairwise=0.8),
            exposure=ExposureConstraint(
                gross_budget=(("long", 0.6), ("short", 0.4)), max_weight=0.25
            ),
        ),
        hysteresis=Hysteresis(
            promote_after=2,
            demote_after=2,
            min_dwell_seconds=3 * 3600,
            bands=Bands(metric="sharpe", enter=0.6, exit=0.4),
        ),
    ),
    validation=Validation(on_missing_metric="fail"),
)


def test_parse_policy_text__spec_document__normalises_to_every_part() -> None:
    assert parse_policy_text(SPEC_DOCUMENT) == SPEC_POLICY


def test_parse_policy_text__spec_document_as_json__gives_the_same_policy() -> None:
    import json

    from policies.dsl import load_document

    assert parse_policy_text(json.dumps(load_document(SPEC_DOCUMENT))) == SPEC_POLICY


def test_parse_policy__empty_document__is_the_default_policy() -> None:
    assert parse_policy({}) == Policy()


def test_parse_policy__null_sections__mean_not_given() -> None:
    document = {"data_currency": None, "sample": None, "selection": None, "validation": None}

    assert parse_policy(document) == Policy()


def test_parse_policy__not_a_mapping__is_refused_under_policy() -> None:
    assert errors_of(["selection"]) == {
        "policy": ["the policy must be a mapping of sections, not a list"]
    }


# --- unknown keys ------------------------------------------------------------------------------


def test_parse_policy__misspelt_top_level_key__is_an_error_with_suggestion() -> None:
    assert errors_of({"selction": {}}) == {
        "selction": ["unknown key 'selction'; did you mean 'selection'?"]
    }


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"data_currency": {"maxlag": "5m"}}, "data_currency.maxlag"),
        ({"sample": {"min_day": 3}}, "sample.min_day"),
        ({"selection": {"gate": ["a > 1"]}}, "selection.gate"),
        ({"selection": {"topk": {"totl": 3}}}, "selection.topk.totl"),
        ({"selection": {"constraints": {"corr": {}}}}, "selection.constraints.corr"),
        ({"selection": {"hysteresis": {"promote": 2}}}, "selection.hysteresis.promote"),
        ({"selection": {"score": {"weight": {"a": 1}}}}, "selection.score.weight"),
        ({"validation": {"on_missing": "warn"}}, "validation.on_missing"),
    ],
)
def test_parse_policy__unknown_nested_key__is_an_error_at_its_path(
    document: dict[str, Any], path: str
) -> None:
    errors = errors_of(document)

    assert path in errors
    assert errors[path][0].startswith("unknown key ")


def test_parse_policy__unknown_key_far_from_any__lists_the_keys() -> None:
    assert errors_of({"sample": {"zzz": 1}}) == {
        "sample.zzz": ["unknown key 'zzz'; expected one of: min_days, min_trades, min_bars"]
    }


def test_parse_policy__odd_key__is_written_in_brackets_in_the_path() -> None:
    assert list(errors_of({"sample": {"min days": 1, 7: 2}})) == [
        'sample["min days"]',
        'sample["7"]',
    ]


def test_parse_policy__many_problems__are_all_reported() -> None:
    errors = errors_of(
        {
            "data_currency": {"max_lag": "5 minutes"},
            "sample": {"min_days": -1},
            "selection": {"gates": ["sharpe >= x"], "topk": {"total": 0}},
            "validation": {"on_missing_metric": "explode"},
        }
    )

    assert list(errors) == [
        "data_currency.max_lag",
        "sample.min_days",
        "selection.gates[0]",
        "selection.topk.total",
        "validation.on_missing_metric",
    ]


# --- data currency and sample ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("0s", 0), ("45s", 45), ("5m", 300), ("3h", 10800), ("60d", 5184000)]
)
def test_parse_policy__durations__are_seconds(text: str, seconds: int) -> None:
    policy = parse_policy({"data_currency": {"max_lag": text, "min_history": text}})

    assert policy.data_currency == DataCurrency(
        max_lag_seconds=seconds, min_history_seconds=seconds
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (5, "needs a unit: write 5s, 5m, 5h or 5d"),
        ("5", "needs a unit: write 5s, 5m, 5h or 5d"),
        (
            "5 m",
            "must be a duration such as 30s, 5m, 3h or 60d: a whole number followed by one "
            "of the units s, m, h, d",
        ),
        (
            "1.5h",
            "must be a duration such as 30s, 5m, 3h or 60d: a whole number followed by one "
            "of the units s, m, h, d",
        ),
        (
            "3w",
            "must be a duration such as 30s, 5m, 3h or 60d: a whole number followed by one "
            "of the units s, m, h, d",
        ),
        (
            "-5m",
            "must be a duration such as 30s, 5m, 3h or 60d: a whole number followed by one "
            "of the units s, m, h, d",
        ),
        (
            True,
            "must be a duration such as 30s, 5m, 3h or 60d: a whole number followed by one "
            "of the units s, m, h, d",
        ),
        ("36501d", "is too long (at most 36500d)"),
    ],
)
def test_parse_policy__bad_duration__is_an_error(value: object, message: str) -> None:
    assert errors_of({"data_currency": {"max_lag": value}}) == {"data_currency.max_lag": [message]}


def test_parse_policy__sample_minimums__are_floats() -> None:
    policy = parse_policy({"sample": {"min_days": 30, "min_trades": 12.5, "min_bars": 0}})

    assert policy.sample == Sample(min_days=30.0, min_trades=12.5, min_bars=0.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "must be at least 0"),
        (True, "must be a number, not true/false"),
        ("30", "must be a number, not text"),
        (float("nan"), "must be a finite number"),
        (float("inf"), "must be a finite number"),
        (10**400, "is too large"),
        ([30], "must be a number, not a list"),
    ],
)
def test_parse_policy__bad_sample_minimum__is_an_error(value: object, message: str) -> None:
    assert errors_of({"sample": {"min_trades": value}}) == {"sample.min_trades": [message]}


def test_parse_policy_text__yaml_nan__is_not_a_number() -> None:
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy_text("sample: {min_days: .nan}")

    assert caught.value.errors == {"sample.min_days": ["must be a finite number"]}


def test_parse_policy__section_of_wrong_type__is_an_error() -> None:
    assert errors_of({"sample": [1, 2], "selection": "sharpe"}) == {
        "sample": ["must be a mapping, not a list"],
        "selection": ["must be a mapping, not text"],
    }


# --- gates -------------------------------------------------------------------------------------


def test_parse_policy__bare_gate_list__means_and() -> None:
    selection = selection_of({"gates": ["sharpe >= 0.6", "max_drawdown <= 0.25"]})

    assert selection.gates == AllOf(
        (Comparison("sharpe", ">=", 0.6), Comparison("max_drawdown", "<=", 0.25))
    )


def test_parse_policy__and_mapping__equals_bare_list() -> None:
    gates = ["sharpe >= 0.6", "max_drawdown <= 0.25"]

    assert selection_of({"gates": {"and": gates}}) == selection_of({"gates": gates})


def test_parse_policy__single_comparison_text__is_one_gate() -> None:
    assert selection_of({"gates": "sharpe > 1"}).gates == Comparison("sharpe", ">", 1.0)


def test_parse_policy__nested_and_or__keeps_the_tree() -> None:
    gates = {"or": [{"and": ["a > 1", "b > 1"]}, ["c > 1"], "d > 1"]}

    assert selection_of({"gates": gates}).gates == AnyOf(
        (
            AllOf((Comparison("a", ">", 1.0), Comparison("b", ">", 1.0))),
            AllOf((Comparison("c", ">", 1.0),)),
            Comparison("d", ">", 1.0),
        )
    )


@pytest.mark.parametrize(
    ("gates", "path", "message"),
    [
        ([], "selection.gates", "needs at least one gate"),
        ({"or": []}, "selection.gates.or", "needs at least one gate"),
        ({}, "selection.gates", "needs exactly one key, 'and' or 'or'"),
        (
            {"and": ["a > 1"], "or": ["b > 1"]},
            "selection.gates",
            "needs exactly one key, 'and' or 'or'; to mix them, put one inside the other",
        ),
        ({"xor": ["a > 1"]}, "selection.gates.xor", "unknown key 'xor'; did you mean 'or'?"),
        ({"and": "a > 1"}, "selection.gates.and", "must be a list of gates, not text"),
        (
            ["a > 1", 5],
            "selection.gates[1]",
            "a gate must be a comparison such as 'sharpe >= 0.6', a list of gates, or a mapping "
            "with one key 'and' or 'or'; found a number",
        ),
        (
            {"and": ["a > 1", "b >", {"or": ["c > 1", "d >= e"]}]},
            "selection.gates.and[1]",
            "comparison needs a number on the right of '>'",
        ),
    ],
)
def test_parse_policy__bad_gate__is_an_error_at_its_path(
    gates: object, path: str, message: str
) -> None:
    assert errors_of({"selection": {"gates": gates}})[path] == [message]


def test_parse_policy__several_bad_gates__are_all_reported() -> None:
    gates = {"and": ["sharpe >= 0.6", "x >=", {"or": ["win_rate >= 0.5", "pf >= y"]}]}

    assert errors_of({"selection": {"gates": gates}}) == {
        "selection.gates.and[1]": ["comparison needs a number on the right of '>='"],
        "selection.gates.and[2].or[1]": [
            "expected a number after '>=' at column 7, found 'y'; a comparison is "
            "'<metric> <operator> <number>'"
        ],
    }


def test_parse_policy__gates_nested_too_deeply__refused() -> None:
    gates: object = "a > 1"
    for _ in range(MAX_GATE_DEPTH):
        gates = {"and": [gates]}

    errors = errors_of({"selection": {"gates": gates}})

    [(path, messages)] = errors.items()
    assert path.startswith("selection.gates.and[0]")
    assert messages == [f"gates are nested too deeply (at most {MAX_GATE_DEPTH} levels of and/or)"]


def test_parse_policy__gates_at_the_depth_limit__accepted() -> None:
    gates: object = "a > 1"
    for _ in range(MAX_GATE_DEPTH - 1):
        gates = {"and": [gates]}

    assert selection_of({"gates": gates}).gates is not None


# --- score -------------------------------------------------------------------------------------


def test_parse_policy__score_expression__is_parsed_with_canonical_source() -> None:
    score = selection_of({"score": "sharpe+0.1*win_rate"}).score

    assert score == ExpressionScore(
        expr=BinaryOp("+", MetricRef("sharpe"), BinaryOp("*", Number(0.1), MetricRef("win_rate"))),
        source="sharpe + 0.1 * win_rate",
    )


def test_parse_policy__weighted_score__is_sorted_by_metric() -> None:
    score = selection_of({"score": {"weights": {"win_rate": 0.1, "sharpe": 1}}}).score

    assert score == WeightedScore(weights=(("sharpe", 1.0), ("win_rate", 0.1)))


@pytest.mark.parametrize(
    ("score", "path", "message"),
    [
        (
            "exp(sharpe)",
            "selection.score",
            "unknown function 'exp' at column 1; the functions are abs, min, max, log and sqrt",
        ),
        (
            5,
            "selection.score",
            "must be an expression such as 'sharpe + 0.1 * win_rate', or {weights: {metric: "
            "weight}}; found a number",
        ),
        ({"weights": {}}, "selection.score.weights", "needs at least one metric and its weight"),
        ({"weights": None}, "selection.score.weights", "is required"),
        ({"weights": [1]}, "selection.score.weights", "must be a mapping, not a list"),
        (
            {"weights": {"sharpe": "1"}},
            "selection.score.weights.sharpe",
            "must be a number, not text",
        ),
        (
            {"weights": {"1x": 1}},
            'selection.score.weights["1x"]',
            "'1x' is not a metric name",
        ),
    ],
)
def test_parse_policy__bad_score__is_an_error_at_its_path(
    score: object, path: str, message: str
) -> None:
    assert errors_of({"selection": {"score": score}}) == {path: [message]}


# --- top-k -------------------------------------------------------------------------------------


def test_parse_policy__topk_total_only__has_no_sides() -> None:
    assert selection_of({"topk": {"total": 3}}).topk == TopK(total=3)


def test_parse_policy__topk_by_side_only__has_no_total_and_sides_sorted() -> None:
    topk = selection_of({"topk": {"by_side": {"short": 1, "long": 2}}}).topk

    assert topk == TopK(total=None, by_side=(("long", 2), ("short", 1)))


def test_parse_policy__topk_whole_float__is_accepted_as_integer() -> None:
    assert selection_of({"topk": {"total": 3.0}}).topk == TopK(total=3)


@pytest.mark.parametrize(
    ("topk", "path", "message"),
    [
        ({}, "selection.topk", "needs total, by_side, or both"),
        ({"total": 0}, "selection.topk.total", "must be at least 1"),
        ({"total": 2.5}, "selection.topk.total", "must be a whole number, not 2.5"),
        ({"total": True}, "selection.topk.total", "must be a whole number, not true/false"),
        ({"total": 10**7}, "selection.topk.total", "must be at most 1000000"),
        ({"by_side": {"long": 0}}, "selection.topk.by_side.long", "must be at least 1"),
        (
            {"by_side": {"sideways": 1}},
            "selection.topk.by_side.sideways",
            "unknown side 'sideways'; use long or short",
        ),
        ({"by_side": [1]}, "selection.topk.by_side", "must be a mapping, not a list"),
    ],
)
def test_parse_policy__bad_topk__is_an_error_at_its_path(
    topk: object, path: str, message: str
) -> None:
    assert errors_of({"selection": {"topk": topk}})[path] == [message]


# --- constraints -------------------------------------------------------------------------------


def test_parse_policy__exposure_without_budget__has_only_max_weight() -> None:
    constraints = selection_of({"constraints": {"exposure": {"max_weight": 1}}}).constraints

    assert constraints == Constraints(exposure=ExposureConstraint(max_weight=1.0))


@pytest.mark.parametrize(
    ("constraints", "path", "message"),
    [
        ({"correlation": {}}, "selection.constraints.correlation.max_pairwise", "is required"),
        (
            {"correlation": {"max_pairwise": 1.2}},
            "selection.constraints.correlation.max_pairwise",
            "must be between 0 and 1",
        ),
        (
            {"exposure": {"gross_budget": {"long": 60}}},
            "selection.constraints.exposure.gross_budget.long",
            "must be between 0 and 1",
        ),
        (
            {"exposure": {"gross_budget": {"flat": 0.5}}},
            "selection.constraints.exposure.gross_budget.flat",
            "unknown side 'flat'; use long or short",
        ),
        (
            {"exposure": {"max_weight": 0}},
            "selection.constraints.exposure.max_weight",
            "must be more than 0 and at most 1",
        ),
    ],
)
def test_parse_policy__bad_constraint__is_an_error_at_its_path(
    constraints: object, path: str, message: str
) -> None:
    assert errors_of({"selection": {"constraints": constraints}}) == {path: [message]}


# --- hysteresis and validation -----------------------------------------------------------------


def test_parse_policy__empty_hysteresis__uses_defaults() -> None:
    assert selection_of({"hysteresis": {}}).hysteresis == Hysteresis()


def test_parse_policy__no_hysteresis__is_none() -> None:
    assert selection_of({}).hysteresis is None


@pytest.mark.parametrize(
    ("hysteresis", "path", "message"),
    [
        ({"promote_after": 0}, "selection.hysteresis.promote_after", "must be at least 1"),
        (
            {"demote_after": 1.5},
            "selection.hysteresis.demote_after",
            "must be a whole number, not 1.5",
        ),
        (
            {"min_dwell": "3x"},
            "selection.hysteresis.min_dwell",
            "must be a duration such as 30s, "
            "5m, 3h or 60d: a whole number followed by one of the units s, m, h, d",
        ),
        (
            {"bands": {"metric": "sharpe", "enter": 0.6}},
            "selection.hysteresis.bands.exit",
            "is required",
        ),
        (
            {"bands": {"enter": 0.6, "exit": 0.4}},
            "selection.hysteresis.bands.metric",
            "is required",
        ),
        (
            {"bands": {"metric": "sharpe", "enter": 0.4, "exit": 0.6}},
            "selection.hysteresis.bands.exit",
            "exit (0.6) must not be above enter (0.4): an active strategy keeps its place down "
            "to exit, a new one needs enter",
        ),
        (
            {"bands": {"metric": "sharpe ratio", "enter": 1, "exit": 0}},
            "selection.hysteresis.bands.metric",
            "must be a metric name such as 'sharpe' (letters, digits, '_' and '.', starting with "
            "a letter or '_'), not 'sharpe ratio'",
        ),
        (
            {"bands": {"metric": "a", "enter": 1, "exit": 0}, "metric": "a"},
            "selection.hysteresis",
            "give the bands either as bands: {metric, enter, exit} or inline, not both",
        ),
    ],
)
def test_parse_policy__bad_hysteresis__is_an_error_at_its_path(
    hysteresis: object, path: str, message: str
) -> None:
    assert errors_of({"selection": {"hysteresis": hysteresis}}) == {path: [message]}


@pytest.mark.parametrize("choice", ["fail", "warn", "ignore"])
def test_parse_policy__on_missing_metric_choices__are_kept(choice: str) -> None:
    policy = parse_policy({"validation": {"on_missing_metric": choice}})

    assert policy.validation.on_missing_metric == choice


@pytest.mark.parametrize("value", ["FAIL", "explode", True, 1])
def test_parse_policy__bad_on_missing_metric__is_an_error(value: object) -> None:
    errors = errors_of({"validation": {"on_missing_metric": value}})

    assert errors["validation.on_missing_metric"][0].startswith("must be fail, warn or ignore")


def test_policy_validation_error__pickled__keeps_its_errors() -> None:
    import pickle

    error = PolicyValidationError({"a": ["b"]})

    assert pickle.loads(pickle.dumps(error)).errors == {"a": ["b"]}  # noqa: S301 - our own data
    assert str(error) == "a: b"
