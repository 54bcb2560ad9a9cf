"""policy_to_dict / dump_policy_yaml give the canonical current-language document."""

from __future__ import annotations

import json

import pytest

from policies.dsl import (
    AllOf,
    AnyOf,
    Bands,
    Comparison,
    Constraints,
    DataCurrency,
    ExposureConstraint,
    Hysteresis,
    Policy,
    Sample,
    Selection,
    TopK,
    WeightedScore,
    dump_policy_yaml,
    format_duration,
    parse_policy,
    parse_policy_text,
    parse_score_expression,
    policy_to_dict,
)


def test_policy_to_dict__default_policy__has_only_validation() -> None:
    assert policy_to_dict(Policy()) == {"validation": {"on_missing_metric": "fail"}}


def test_policy_to_dict__full_policy__is_canonical_current_language() -> None:
    policy = Policy(
        data_currency=DataCurrency(max_lag_seconds=300, min_history_seconds=60 * 86400),
        sample=Sample(min_days=30.0, min_trades=12.5),
        selection=Selection(
            gates=AllOf((Comparison("sharpe", ">=", 0.6), AnyOf((Comparison("a", "<", -1.0),)))),
            score=WeightedScore((("sharpe", 1.0), ("win_rate", 0.1))),
            topk=TopK(total=8, by_side=(("long", 5),)),
            constraints=Constraints(exposure=ExposureConstraint(gross_budget=(("short", 0.4),))),
            hysteresis=Hysteresis(
                promote_after=2, min_dwell_seconds=90, bands=Bands("sharpe", 1.0, 0.5)
            ),
        ),
    )

    assert policy_to_dict(policy) == {
        "data_currency": {"max_lag": "5m", "min_history": "60d"},
        "sample": {"min_days": 30, "min_trades": 12.5},
        "selection": {
            "constraints": {"exposure": {"gross_budget": {"short": 0.4}}},
            "gates": {"and": ["sharpe >= 0.6", {"or": ["a < -1"]}]},
            "hysteresis": {
                "bands": {"enter": 1, "exit": 0.5, "metric": "sharpe"},
                "demote_after": 1,
                "min_dwell": "90s",
                "promote_after": 2,
            },
            "score": {"weights": {"sharpe": 1, "win_rate": 0.1}},
            "topk": {"by_side": {"long": 5}, "total": 8},
        },
        "validation": {"on_missing_metric": "fail"},
    }


def test_policy_to_dict__any_policy__keys_are_sorted_at_every_level() -> None:
    document = policy_to_dict(parse_policy({"preset": "conservative"}))

    def check(value: object) -> None:
        if isinstance(value, dict):
            assert list(value) == sorted(value)
            for item in value.values():
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)

    check(document)


def test_policy_to_dict__legacy_document__comes_out_in_current_language() -> None:
    policy = parse_policy({"top_k": {"metric": "sharpe", "k": 3}, "correlation": {"max": 0.5}})

    assert policy_to_dict(policy) == {
        "selection": {
            "constraints": {"correlation": {"max_pairwise": 0.5}},
            "score": "sharpe",
            "topk": {"total": 3},
        },
        "validation": {"on_missing_metric": "fail"},
    }


def test_policy_to_dict__expression_score__is_its_canonical_source() -> None:
    policy = Policy(selection=Selection(score=parse_score_expression("(a*2)+b")))

    assert policy_to_dict(policy)["selection"] == {"score": "a * 2 + b"}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (59, "59s"),
        (60, "1m"),
        (90, "90s"),
        (300, "5m"),
        (3600, "1h"),
        (5400, "90m"),
        (10800, "3h"),
        (86400, "1d"),
        (90000, "25h"),
        (5184000, "60d"),
    ],
)
def test_format_duration__seconds__uses_the_largest_whole_unit(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_dump_policy_yaml__policy__is_sorted_block_yaml_that_reads_back() -> None:
    policy = parse_policy({"preset": "moderate"})

    text = dump_policy_yaml(policy)

    assert text.startswith(
        "selection:\n  constraints:\n    correlation:\n      max_pairwise: 0.7\n"
    )
    assert parse_policy_text(text) == policy


def test_dump_policy_yaml__score_that_looks_like_a_number__is_quoted() -> None:
    policy = Policy(selection=Selection(score=parse_score_expression("1e+20")))

    text = dump_policy_yaml(policy)

    assert "score: '1e+20'" in text
    assert parse_policy_text(text) == policy


def test_dump_policy_yaml__same_policy_any_spelling__same_text() -> None:
    legacy = parse_policy_text(
        "thresholds: {s: {metric: sharpe, min: 1}}\ntop_k: {metric: sharpe, k: 2}"
    )
    current = parse_policy_text(
        '{"selection": {"topk": {"total": 2}, "score": "sharpe", '
        '"gates": {"and": ["sharpe>=1.0"]}}}'
    )

    assert dump_policy_yaml(legacy) == dump_policy_yaml(current)


def test_policy_to_dict__any_policy__is_json_safe() -> None:
    policy = parse_policy({"preset": "aggressive", "data_currency": {"max_lag": "1h"}})

    assert json.loads(json.dumps(policy_to_dict(policy), allow_nan=False)) == policy_to_dict(policy)
