"""Steps 5–6: rank, top-k (total and per side), correlation and exposure."""

from __future__ import annotations

import math

import pytest

from policies.dsl.model import ExposureConstraint, TopK
from policies.engine import result as codes
from tests.engine.helpers import metric_score, policy, run, sided

SCORE = metric_score("s")


def test_rank__ties__broken_by_strategy_id() -> None:
    result = run(policy(score=SCORE), {"b": {"s": 1.0}, "a": {"s": 1.0}, "c": {"s": 2.0}})

    assert [result.strategies[x].rank for x in ("c", "a", "b")] == [1, 2, 3]
    assert result.active == ("c", "a", "b")


def test_rank__failing_gates__unranked() -> None:
    result = run(policy(gates="s >= 1", score=SCORE), {"a": {"s": 0.5}, "b": {"s": 1.5}})

    assert result.strategies["a"].rank is None
    assert result.strategies["b"].rank == 1


def test_topk__total__keeps_best_k_rest_cut() -> None:
    metrics = {f"s{i}": {"s": float(i)} for i in range(5)}

    result = run(policy(score=SCORE, topk=TopK(total=2)), metrics)

    assert result.active == ("s4", "s3")
    assert codes.TOPK_SELECTED in result.strategies["s4"].reasons
    assert codes.TOPK_CUT in result.strategies["s2"].reasons
    assert not result.strategies["s2"].selected


def test_topk__by_side__per_side_limit_does_not_use_total_places() -> None:
    # Given long L1 > L2 > L3 above short S1 > S2, total 3 and at most 1 long.
    metrics = {
        "L1": sided("long", s=5),
        "L2": sided("long", s=4),
        "L3": sided("long", s=3),
        "S1": sided("short", s=2),
        "S2": sided("short", s=1),
    }

    result = run(policy(score=SCORE, topk=TopK(total=3, by_side=(("long", 1),))), metrics)

    assert result.active == ("L1", "S1", "S2")
    assert {codes.TOPK_CUT, codes.TOPK_SIDE_CUT} <= set(result.strategies["L2"].reasons)
    assert codes.TOPK_SIDE_CUT not in result.strategies["S1"].reasons


def test_topk__by_side_only__each_side_limited() -> None:
    metrics = {
        "L1": sided("long", s=5),
        "L2": sided("long", s=4),
        "S1": sided("short", s=2),
        "S2": sided("short", s=1),
    }
    topk = TopK(by_side=(("long", 1), ("short", 1)))

    assert run(policy(score=SCORE, topk=topk), metrics).active == ("L1", "S1")


def test_correlation__above_max_with_kept__lower_ranked_dropped() -> None:
    metrics = {"a": {"s": 3}, "b": {"s": 2}, "c": {"s": 1}}

    result = run(
        policy(score=SCORE, max_pairwise=0.8),
        metrics,
        correlations=[("a", "b", 0.81), ("b", "c", 0.99), ("a", "c", -0.5)],
    )

    # b is dropped by a; c then only meets b (dropped, so not kept) and a (|−0.5| ≤ 0.8).
    assert result.active == ("a", "c")
    assert codes.CORRELATION_DROPPED in result.strategies["b"].reasons
    assert not result.strategies["b"].selected


def test_correlation__negative_beyond_max__absolute_value_counts() -> None:
    result = run(
        policy(score=SCORE, max_pairwise=0.8),
        {"a": {"s": 2}, "b": {"s": 1}},
        correlations=[("b", "a", -0.9)],
    )

    assert result.active == ("a",)


@pytest.mark.parametrize("value", [0.8, math.nan, None, "0.99"], ids=repr)
def test_correlation__at_max_or_not_a_number__kept(value: object) -> None:
    # Given |corr| equal to the max (not above), or a pair value that is not a number (= 0).
    result = run(
        policy(score=SCORE, max_pairwise=0.8),
        {"a": {"s": 2}, "b": {"s": 1}},
        correlations=[("a", "b", value)],
    )

    assert result.active == ("a", "b")


def test_correlation__missing_pair__counts_as_zero() -> None:
    result = run(policy(score=SCORE, max_pairwise=0.1), {"a": {"s": 2}, "b": {"s": 1}})

    assert result.active == ("a", "b")


def test_correlation__pair_given_twice__last_value_wins() -> None:
    result = run(
        policy(score=SCORE, max_pairwise=0.8),
        {"a": {"s": 2}, "b": {"s": 1}},
        correlations=[("a", "b", 0.95), ("b", "a", 0.1)],
    )

    assert result.active == ("a", "b")


def test_correlation__after_topk__drop_does_not_pull_in_next() -> None:
    # Given top-2 keeps a, b and b is dropped: c (cut by top-k) stays out.
    result = run(
        policy(score=SCORE, topk=TopK(total=2), max_pairwise=0.5),
        {"a": {"s": 3}, "b": {"s": 2}, "c": {"s": 1}},
        correlations=[("a", "b", 0.9)],
    )

    assert result.active == ("a",)


def test_exposure__no_exposure__one_split_over_all() -> None:
    result = run(policy(score=SCORE), {"a": sided("long", s=2), "b": sided("short", s=1)})

    assert result.weights == {"a": 0.5, "b": 0.5}
    assert result.strategies["a"].weight == 0.5


def test_exposure__gross_budget_per_side__equal_inside_side() -> None:
    exposure = ExposureConstraint(gross_budget=(("long", 0.6), ("short", 0.4)))
    metrics = {"L1": sided("long", s=3), "L2": sided("long", s=2), "S1": sided("short", s=1)}

    result = run(policy(score=SCORE, exposure=exposure), metrics)

    assert result.weights == pytest.approx({"L1": 0.3, "L2": 0.3, "S1": 0.4})


def test_exposure__side_without_budget__default_share() -> None:
    # Given a budget for long only: short takes 1.0 split over all three active.
    exposure = ExposureConstraint(gross_budget=(("long", 0.5),))
    metrics = {"L1": sided("long", s=3), "L2": sided("long", s=2), "S1": sided("short", s=1)}

    result = run(policy(score=SCORE, exposure=exposure), metrics)

    assert result.weights == pytest.approx({"L1": 0.25, "L2": 0.25, "S1": 1 / 3})


def test_exposure__max_weight__caps_without_redistribution() -> None:
    exposure = ExposureConstraint(gross_budget=(("long", 1.0),), max_weight=0.25)

    result = run(policy(score=SCORE, exposure=exposure), {"a": {"s": 2}, "b": {"s": 1}})

    assert result.weights == {"a": 0.25, "b": 0.25}
    assert codes.WEIGHT_CAPPED in result.strategies["a"].reasons


def test_exposure__inactive_strategy__weight_none_and_absent_from_weights() -> None:
    result = run(policy(gates="s >= 2", score=SCORE), {"a": {"s": 2}, "b": {"s": 1}})

    assert result.strategies["b"].weight is None
    assert result.weights == {"a": 1.0}
