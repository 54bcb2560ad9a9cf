"""Metric lookup (nested, dotted, leaf names) and what counts as missing."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from policies.engine.metrics import MetricView, as_metric_value


@pytest.mark.parametrize(
    "raw",
    [None, math.nan, math.inf, -math.inf, "1.5", "", True, False, [1.0], {"x": 1.0}, 10**400],
    ids=["none", "nan", "inf", "-inf", "str", "empty-str", "true", "false", "list", "map", "huge"],
)
def test_as_metric_value__not_a_finite_number__missing(raw: object) -> None:
    assert as_metric_value(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(1.5, 1.5), (-2, -2.0), (0, 0.0), (Decimal("0.25"), 0.25), (Fraction(1, 4), 0.25)],
)
def test_as_metric_value__finite_number__float(raw: object, expected: float) -> None:
    assert as_metric_value(raw) == expected


def test_metric_view__flat_key__value() -> None:
    assert MetricView({"sharpe": 1.2}).get("sharpe") == 1.2


def test_metric_view__dotted_name__nested_value() -> None:
    view = MetricView({"returns": {"sharpe": 1.2, "risk": {"ulcer": 0.3}}})

    assert view.get("returns.sharpe") == 1.2
    assert view.get("returns.risk.ulcer") == 0.3
    assert view.get("risk.ulcer") == 0.3  # a unique dotted suffix


def test_metric_view__leaf_name_unique__matches_nested_path() -> None:
    assert MetricView({"returns": {"sharpe": 1.2}}).get("sharpe") == 1.2


def test_metric_view__leaf_name_ambiguous__missing() -> None:
    # Given two nested paths ending in .sharpe: picking one would be a guess.
    view = MetricView({"returns": {"sharpe": 1.2}, "excess": {"sharpe": 0.4}})

    assert view.get("sharpe") is None
    assert view.get("excess.sharpe") == 0.4


def test_metric_view__top_level_key__wins_over_nested_leaf() -> None:
    view = MetricView({"sharpe": 2.0, "returns": {"sharpe": 1.2}})

    assert view.get("sharpe") == 2.0


def test_metric_view__literal_dotted_key__exact_match() -> None:
    assert MetricView({"alpha_performance.sharpe": 0.7}).get("alpha_performance.sharpe") == 0.7


def test_metric_view__name_of_a_map__missing() -> None:
    assert MetricView({"returns": {"sharpe": 1.2}}).get("returns") is None


def test_metric_view__overlay__wins_but_only_by_exact_name() -> None:
    # Given a computed overlay: it answers its full names and never makes `sharpe` ambiguous.
    view = MetricView(
        {"returns": {"sharpe": 1.2}, "alpha_performance.sharpe": 9.0},
        overlay={"alpha_performance.sharpe": 0.5},
    )

    assert view.get("alpha_performance.sharpe") == 0.5
    assert view.get("sharpe") is None  # two input paths end in .sharpe: ambiguous in the input
    assert (
        MetricView({"returns": {"sharpe": 1.2}}, overlay={"alpha_performance.sharpe": 0.5}).get(
            "sharpe"
        )
        == 1.2
    )


def test_metric_view__missing_value_in_nested_path__missing() -> None:
    assert MetricView({"returns": {"sharpe": math.nan}}).get("sharpe") is None
    assert MetricView({}).get("sharpe") is None
