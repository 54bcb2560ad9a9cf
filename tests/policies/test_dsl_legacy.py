"""The existing WorldService form and the presets mean what the tables say.

See docs/policy-language.md#6-presets and docs/policy-language.md#7-the-older-form-of-policies.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.dsl import (
    AllOf,
    Bands,
    Comparison,
    Constraints,
    CorrelationConstraint,
    Hysteresis,
    MetricRef,
    Policy,
    PolicyValidationError,
    Selection,
    TopK,
    Validation,
    expression_score,
    parse_policy,
    parse_policy_text,
    summarize_gates,
)


def errors_of(document: Any) -> dict[str, list[str]]:
    with pytest.raises(PolicyValidationError) as caught:
        parse_policy(document)
    return caught.value.errors


# --- each row of the table ---------------------------------------------------------------------


def test_parse_policy__thresholds__are_and_joined_comparisons() -> None:
    legacy = {
        "thresholds": {
            "sharpe_floor": {"metric": "sharpe", "min": 0.6},
            "dd": {"metric": "max_drawdown", "max": 0.25},
            "band": {"metric": "win_rate", "min": 0.4, "max": 0.9},
        }
    }
    current = {
        "selection": {
            "gates": {
                "and": [
                    "sharpe >= 0.6",
                    "max_drawdown <= 0.25",
                    "win_rate >= 0.4",
                    "win_rate <= 0.9",
                ]
            }
        }
    }

    assert parse_policy(legacy) == parse_policy(current)


def test_parse_policy__threshold_without_metric__uses_its_label() -> None:
    policy = parse_policy({"thresholds": {"sharpe": {"min": 1}}})

    assert policy.selection.gates == AllOf((Comparison("sharpe", ">=", 1.0),))


def test_parse_policy__top_k__is_score_and_topk_total() -> None:
    legacy = {"top_k": {"metric": "sharpe", "k": 5}}
    current = {"selection": {"score": "sharpe", "topk": {"total": 5}}}

    assert parse_policy(legacy) == parse_policy(current)


def test_parse_policy__top_k_without_metric__sets_only_topk() -> None:
    policy = parse_policy({"top_k": {"k": 5}})

    assert policy.selection == Selection(topk=TopK(total=5))


def test_parse_policy__correlation__is_max_pairwise() -> None:
    legacy = {"correlation": {"max": 0.7}}
    current = {"selection": {"constraints": {"correlation": {"max_pairwise": 0.7}}}}

    assert parse_policy(legacy) == parse_policy(current)


def test_parse_policy__old_hysteresis__is_bands() -> None:
    legacy = {"hysteresis": {"metric": "sharpe", "enter": 0.7, "exit": 0.5}}
    current = {
        "selection": {"hysteresis": {"bands": {"metric": "sharpe", "enter": 0.7, "exit": 0.5}}}
    }

    assert parse_policy(legacy) == parse_policy(current)
    assert parse_policy(legacy).selection.hysteresis == Hysteresis(
        promote_after=1, demote_after=1, min_dwell_seconds=0, bands=Bands("sharpe", 0.7, 0.5)
    )


def test_parse_policy__validation__is_the_same_in_both_forms() -> None:
    policy = parse_policy({"validation": {"on_missing_metric": "warn"}})

    assert policy == Policy(validation=Validation(on_missing_metric="warn"))


LEGACY_PARTS: dict[str, Any] = {
    "thresholds": {
        "sharpe": {"metric": "sharpe", "min": 0.7},
        "dd": {"metric": "max_drawdown", "max": 0.25},
    },
    "top_k": {"metric": "sharpe", "k": 5},
    "correlation": {"max": 0.7},
    "hysteresis": {"metric": "sharpe", "enter": 0.7, "exit": 0.5},
}
CURRENT_EQUIVALENT: dict[str, Any] = {
    "selection": {
        "gates": ["sharpe >= 0.7", "max_drawdown <= 0.25"],
        "score": "sharpe",
        "topk": {"total": 5},
        "constraints": {"correlation": {"max_pairwise": 0.7}},
        "hysteresis": {"bands": {"metric": "sharpe", "enter": 0.7, "exit": 0.5}},
    },
    "validation": {"on_missing_metric": "ignore"},
}


def test_parse_policy__whole_legacy_document__equals_current_language() -> None:
    legacy = {**LEGACY_PARTS, "validation": {"on_missing_metric": "ignore"}}

    assert parse_policy(legacy) == parse_policy(CURRENT_EQUIVALENT)


def test_parse_policy__legacy_nested_in_selection__equals_top_level() -> None:
    nested = {"selection": LEGACY_PARTS, "validation": {"on_missing_metric": "ignore"}}

    assert parse_policy(nested) == parse_policy(CURRENT_EQUIVALENT)


def test_parse_policy_text__legacy_yaml__equals_current_language() -> None:
    text = """
thresholds:
  sharpe: {metric: sharpe, min: 0.7}
  dd: {metric: max_drawdown, max: 0.25}
top_k: {metric: sharpe, k: 5}
correlation: {max: 0.7}
hysteresis: {metric: sharpe, enter: 0.7, exit: 0.5}
validation: {on_missing_metric: ignore}
"""

    assert parse_policy_text(text) == parse_policy(CURRENT_EQUIVALENT)


# --- combining places --------------------------------------------------------------------------


def test_parse_policy__thresholds_and_gates__are_all_applied_in_order() -> None:
    document = {
        "thresholds": {"sharpe": {"min": 1}},
        "selection": {
            "thresholds": {"win_rate": {"min": 0.5}},
            "gates": {"or": ["a > 1", "b > 1"]},
        },
    }

    gates = parse_policy(document).selection.gates

    assert summarize_gates(parse_policy(document)) == (
        "sharpe >= 1 and win_rate >= 0.5 and (a > 1 or b > 1)"
    )
    assert isinstance(gates, AllOf)
    assert len(gates.children) == 3


def test_parse_policy__old_hysteresis_and_new_counts__combine() -> None:
    document = {
        "hysteresis": {"metric": "sharpe", "enter": 1, "exit": 0.5},
        "selection": {"hysteresis": {"promote_after": 3}},
    }

    assert parse_policy(document).selection.hysteresis == Hysteresis(
        promote_after=3, demote_after=1, min_dwell_seconds=0, bands=Bands("sharpe", 1.0, 0.5)
    )


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        (
            {"top_k": {"k": 3}, "selection": {"topk": {"total": 4}}},
            "selection.topk",
            "the top-k is already set at 'top_k'; give it only once",
        ),
        (
            {"top_k": {"k": 3, "metric": "sharpe"}, "selection": {"score": "win_rate"}},
            "selection.score",
            "the score is already set at 'top_k'; give it only once",
        ),
        (
            {"correlation": {"max": 0.5}, "selection": {"correlation": {"max": 0.6}}},
            "selection.correlation",
            "the correlation limit is already set at 'correlation'; give it only once",
        ),
        (
            {
                "selection": {
                    "correlation": {"max": 0.5},
                    "constraints": {"correlation": {"max_pairwise": 0.6}},
                }
            },
            "selection.constraints.correlation",
            "the correlation limit is already set at 'selection.correlation'; give it only once",
        ),
        (
            {
                "hysteresis": {"metric": "a", "enter": 1, "exit": 0},
                "selection": {"hysteresis": {"bands": {"metric": "a", "enter": 1, "exit": 0}}},
            },
            "selection.hysteresis.bands",
            "the hysteresis bands are already set at 'hysteresis'; give it only once",
        ),
        (
            {"hysteresis": {"promote_after": 2}, "selection": {"hysteresis": {}}},
            "selection.hysteresis",
            "the hysteresis counts are already set at 'hysteresis'; give it only once",
        ),
    ],
)
def test_parse_policy__part_given_twice__is_an_error_at_the_second(
    document: dict[str, Any], path: str, message: str
) -> None:
    assert errors_of(document) == {path: [message]}


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        ({"thresholds": {"sharpe": {}}}, "thresholds.sharpe", "needs min or max (or both)"),
        ({"thresholds": {"sharpe": None}}, "thresholds.sharpe", "is required"),
        ({"thresholds": ["sharpe"]}, "thresholds", "must be a mapping, not a list"),
        (
            {"thresholds": {"sharpe": {"min": 2, "max": 1}}},
            "thresholds.sharpe.min",
            "min (2) is above max (1)",
        ),
        (
            {"thresholds": {"my floor": {"min": 2}}},
            'thresholds["my floor"].metric',
            "is required, as the label 'my floor' is not a metric name",
        ),
        ({"top_k": {"metric": "sharpe"}}, "top_k.k", "is required"),
        ({"top_k": {"k": 0}}, "top_k.k", "must be at least 1"),
        ({"correlation": {}}, "correlation.max", "is required"),
        ({"correlation": {"max": -0.1}}, "correlation.max", "must be between 0 and 1"),
        ({"hysteresis": {"metric": "sharpe", "enter": 1}}, "hysteresis.exit", "is required"),
        (
            {"hysteresis": {"metric": "sharpe", "enter": 0.5, "exit": 0.7}},
            "hysteresis.exit",
            "exit (0.7) must not be above enter (0.5): an active strategy keeps its place down "
            "to exit, a new one needs enter",
        ),
    ],
)
def test_parse_policy__bad_legacy_part__is_an_error_at_its_path(
    document: dict[str, Any], path: str, message: str
) -> None:
    assert errors_of(document) == {path: [message]}


# --- presets -----------------------------------------------------------------------------------


def preset_policy(
    gates: list[tuple[str, str, float]],
    top: int,
    correlation: float | None,
    bands: tuple[float, float] | None,
) -> Policy:
    return Policy(
        selection=Selection(
            gates=AllOf(tuple(Comparison(m, op, v) for m, op, v in gates)) if gates else None,
            score=expression_score(MetricRef("sharpe")),
            topk=TopK(total=top),
            constraints=Constraints(
                correlation=CorrelationConstraint(correlation) if correlation is not None else None
            ),
            hysteresis=Hysteresis(bands=Bands("sharpe", *bands)) if bands else None,
        )
    )


EXPECTED_PRESETS = {
    "sandbox": preset_policy([], 10, None, None),
    "conservative": preset_policy(
        [
            ("sharpe", ">=", 1.0),
            ("max_drawdown", "<=", 0.15),
            ("win_rate", ">=", 0.55),
            ("profit_factor", ">=", 1.5),
        ],
        3,
        0.5,
        (1.0, 0.8),
    ),
    "moderate": preset_policy(
        [
            ("sharpe", ">=", 0.7),
            ("max_drawdown", "<=", 0.25),
            ("win_rate", ">=", 0.50),
            ("profit_factor", ">=", 1.2),
        ],
        5,
        0.7,
        (0.7, 0.5),
    ),
    "aggressive": preset_policy(
        [("sharpe", ">=", 0.5), ("max_drawdown", "<=", 0.40), ("profit_factor", ">=", 1.0)],
        8,
        0.85,
        (0.5, 0.3),
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_PRESETS))
def test_parse_policy__preset__has_exactly_the_table_content(name: str) -> None:
    assert parse_policy({"preset": name}) == EXPECTED_PRESETS[name]


def test_parse_policy__sandbox__is_top_10_by_sharpe_without_gates() -> None:
    assert summarize_gates(parse_policy({"preset": "sandbox"})) == "no gates; top 10 by sharpe"


def test_parse_policy__unknown_preset__suggests_the_closest() -> None:
    assert errors_of({"preset": "conservtive"}) == {
        "preset": ["unknown preset 'conservtive'; did you mean 'conservative'?"]
    }


def test_parse_policy__preset_of_wrong_type__is_an_error() -> None:
    assert errors_of({"preset": 3}) == {
        "preset": ["unknown preset 3; expected one of: sandbox, conservative, moderate, aggressive"]
    }


def test_parse_policy__preset_overrides_without_preset__is_an_error() -> None:
    assert errors_of({"preset_overrides": {"sharpe.min": 1}}) == {
        "preset_overrides": [
            "needs a preset to change: add preset: sandbox, conservative, moderate or aggressive"
        ]
    }


def test_parse_policy__threshold_override__changes_that_bound_in_place() -> None:
    policy = parse_policy({"preset": "moderate", "preset_overrides": {"sharpe.min": 1.2}})

    assert summarize_gates(policy) == (
        "sharpe >= 1.2 and max_drawdown <= 0.25 and win_rate >= 0.5 and profit_factor >= 1.2; "
        "top 5 by sharpe"
    )


def test_parse_policy__override_on_new_metric__adds_a_threshold_last() -> None:
    policy = parse_policy(
        {"preset": "aggressive", "preset_overrides": {"win_rate.min": 0.45, "sharpe.max": 5}}
    )

    assert summarize_gates(policy) == (
        "sharpe >= 0.5 and sharpe <= 5 and max_drawdown <= 0.4 and profit_factor >= 1 and "
        "win_rate >= 0.45; top 8 by sharpe"
    )


def test_parse_policy__null_override__removes_that_bound() -> None:
    policy = parse_policy(
        {
            "preset": "conservative",
            "preset_overrides": {"win_rate.min": None, "correlation.max": None},
        }
    )

    assert summarize_gates(policy).startswith("sharpe >= 1 and max_drawdown <= 0.15 and profit")
    assert policy.selection.constraints.correlation is None


def test_parse_policy__fixed_overrides__change_topk_rank_correlation_and_bands() -> None:
    policy = parse_policy(
        {
            "preset": "moderate",
            "preset_overrides": {
                "top_k.k": 2,
                "top_k.metric": "car_mdd",
                "correlation.max": 0.6,
                "hysteresis.metric": "car_mdd",
                "hysteresis.enter": 0.9,
                "hysteresis.exit": 0.6,
            },
        }
    )

    assert policy.selection.topk == TopK(total=2)
    assert policy.selection.score == expression_score(MetricRef("car_mdd"))
    assert policy.selection.constraints.correlation == CorrelationConstraint(0.6)
    assert policy.selection.hysteresis == Hysteresis(bands=Bands("car_mdd", 0.9, 0.6))


def test_parse_policy__sandbox_with_all_band_overrides__gets_bands() -> None:
    overrides = {"hysteresis.metric": "sharpe", "hysteresis.enter": 1, "hysteresis.exit": 0.5}

    policy = parse_policy({"preset": "sandbox", "preset_overrides": overrides})

    assert policy.selection.hysteresis == Hysteresis(bands=Bands("sharpe", 1.0, 0.5))


def test_parse_policy__preset_equals_its_spelled_out_legacy_form() -> None:
    spelled_out = {
        "thresholds": {
            "sharpe": {"min": 1.2},
            "max_drawdown": {"max": 0.25},
            "win_rate": {"min": 0.5},
            "profit_factor": {"min": 1.2},
        },
        "top_k": {"metric": "sharpe", "k": 5},
        "correlation": {"max": 0.7},
        "hysteresis": {"metric": "sharpe", "enter": 0.7, "exit": 0.5},
    }

    assert parse_policy(
        {"preset": "moderate", "preset_overrides": {"sharpe.min": 1.2}}
    ) == parse_policy(spelled_out)


def test_parse_policy__preset_with_more_gates_and_sections__adds_them() -> None:
    document = {
        "preset": "moderate",
        "data_currency": {"max_lag": "5m"},
        "selection": {"gates": ["car_mdd >= 0.5"], "hysteresis": {"promote_after": 2}},
    }

    policy = parse_policy(document)

    assert summarize_gates(policy) == (
        "sharpe >= 0.7 and max_drawdown <= 0.25 and win_rate >= 0.5 and profit_factor >= 1.2 "
        "and car_mdd >= 0.5; top 5 by sharpe"
    )
    assert policy.selection.hysteresis == Hysteresis(
        promote_after=2, bands=Bands("sharpe", 0.7, 0.5)
    )
    assert policy.data_currency.max_lag_seconds == 300


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        (
            {"preset": "moderate", "selection": {"topk": {"total": 3}}},
            "selection.topk",
            "the preset 'moderate' already sets the top-k; change it with preset_overrides instead",
        ),
        (
            {"preset": "moderate", "correlation": {"max": 0.2}},
            "correlation",
            "the preset 'moderate' already sets the correlation limit; change it with "
            "preset_overrides instead",
        ),
        (
            {"preset": "moderate", "hysteresis": {"metric": "sharpe", "enter": 1, "exit": 0}},
            "hysteresis",
            "the preset 'moderate' already sets the hysteresis bands; change it with "
            "preset_overrides instead",
        ),
    ],
)
def test_parse_policy__preset_part_given_again__is_an_error(
    document: dict[str, Any], path: str, message: str
) -> None:
    assert errors_of(document)[path] == [message]


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"sharpe.min": "high"}, 'preset_overrides["sharpe.min"]', "must be a number, not text"),
        (
            {"sharpe.min": True},
            'preset_overrides["sharpe.min"]',
            "must be a number, not true/false",
        ),
        (
            {"sharpe": 1.2},
            "preset_overrides.sharpe",
            "unknown override 'sharpe'; use '<metric>.min' or '<metric>.max' for a threshold, or "
            "one of top_k.k, top_k.metric, correlation.max, hysteresis.metric, hysteresis.enter, "
            "hysteresis.exit",
        ),
        (
            {"sharpe.minimum": 1.2},
            'preset_overrides["sharpe.minimum"]',
            "unknown override 'sharpe.minimum'; use '<metric>.min' or '<metric>.max' for a "
            "threshold, or one of top_k.k, top_k.metric, correlation.max, hysteresis.metric, "
            "hysteresis.enter, hysteresis.exit",
        ),
        (
            {"top_k.total": 3},
            'preset_overrides["top_k.total"]',
            "unknown override 'top_k.total'; did you mean 'top_k.k'?",
        ),
        ({"1x.min": 1}, 'preset_overrides["1x.min"]', "'1x' is not a metric name"),
        (
            {"sharpe.max": None},
            'preset_overrides["sharpe.max"]',
            "the preset 'moderate' has no sharpe.max to remove",
        ),
        (
            {"max_drawdown.min": 0.5},
            'preset_overrides["max_drawdown.min"]',
            "leaves max_drawdown with min 0.5 above max 0.25",
        ),
        ({"top_k.k": 0}, 'preset_overrides["top_k.k"]', "must be at least 1"),
        ({"top_k.k": None}, 'preset_overrides["top_k.k"]', "must be a whole number, not null"),
        ({"correlation.max": 2}, 'preset_overrides["correlation.max"]', "must be between 0 and 1"),
        (
            {"hysteresis.exit": 0.9},
            'preset_overrides["hysteresis.exit"]',
            "exit (0.9) must not be above enter (0.7): an active strategy keeps its place down "
            "to exit, a new one needs enter",
        ),
        ({7: 1}, 'preset_overrides["7"]', "override keys are text, such as 'sharpe.min'"),
    ],
)
def test_parse_policy__bad_override__is_an_error_at_its_key(
    overrides: dict[Any, Any], path: str, message: str
) -> None:
    assert errors_of({"preset": "moderate", "preset_overrides": overrides}) == {path: [message]}


def test_parse_policy__misspelt_threshold_bound__reports_the_key_and_the_missing_bound() -> None:
    assert errors_of({"thresholds": {"s": {"metric": "sharpe", "minimum": 2}}}) == {
        "thresholds.s.minimum": ["unknown key 'minimum'; did you mean 'min'?"],
        "thresholds.s": ["needs min or max (or both)"],
    }


def test_parse_policy__legacy_top_k_with_preset__reports_score_and_topk() -> None:
    assert errors_of({"preset": "sandbox", "top_k": {"metric": "sharpe", "k": 3}}) == {
        "top_k": [
            "the preset 'sandbox' already sets the score; change it with preset_overrides instead",
            "the preset 'sandbox' already sets the top-k; change it with preset_overrides instead",
        ]
    }


def test_parse_policy__band_override_on_sandbox_alone__is_an_error() -> None:
    document = {"preset": "sandbox", "preset_overrides": {"hysteresis.enter": 1}}

    assert errors_of(document) == {
        'preset_overrides["hysteresis.enter"]': [
            "the preset 'sandbox' has no hysteresis bands: give hysteresis.metric, "
            "hysteresis.enter and hysteresis.exit together"
        ]
    }


def test_parse_policy__preset_upload_body__is_a_document() -> None:
    body = {"preset": "conservative", "preset_overrides": {"sharpe.min": 1.2}}

    policy = parse_policy(body)

    assert policy.selection.gates == AllOf(
        (
            Comparison("sharpe", ">=", 1.2),
            Comparison("max_drawdown", "<=", 0.15),
            Comparison("win_rate", ">=", 0.55),
            Comparison("profit_factor", ">=", 1.5),
        )
    )
