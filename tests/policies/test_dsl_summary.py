"""summarize_gates: one line a risk officer can read in an admin list."""

from __future__ import annotations

from typing import Any

import pytest

from policies.dsl import parse_policy, summarize_gates


@pytest.mark.parametrize(
    ("selection", "summary"),
    [
        ({}, "no gates"),
        ({"topk": {"total": 3}}, "no gates; top 3 by sharpe"),
        ({"gates": ["win_rate > 0.5"], "topk": {"total": 3}}, "win_rate > 0.5; top 3 by win_rate"),
        (
            {
                "gates": {
                    "and": [
                        "sharpe >= 0.6",
                        "max_drawdown <= 0.25",
                        {"or": ["win_rate >= 0.5", "profit_factor >= 1.3"]},
                    ]
                },
                "score": "sharpe + 0.1 * win_rate",
                "topk": {"total": 8},
            },
            "sharpe >= 0.6 and max_drawdown <= 0.25 and (win_rate >= 0.5 or profit_factor >= 1.3); "
            "top 8 by score",
        ),
        (
            {"gates": {"or": ["a > 1", {"and": ["b > 1", "c > 1"]}]}},
            "a > 1 or (b > 1 and c > 1)",
        ),
        ({"gates": {"or": [{"and": ["b > 1"]}]}}, "b > 1"),
        ({"gates": "a != -0.5"}, "a != -0.5"),
        ({"score": {"weights": {"a": 1}}, "topk": {"total": 2}}, "no gates; top 2 by score"),
        (
            {"score": "car_mdd", "topk": {"by_side": {"long": 2, "short": 1}}},
            "no gates; top long 2, short 1 by car_mdd",
        ),
        (
            {"score": "car_mdd", "topk": {"total": 4, "by_side": {"long": 3}}},
            "no gates; top 4 (long 3) by car_mdd",
        ),
    ],
)
def test_summarize_gates__selection__reads_as_one_line(
    selection: dict[str, Any], summary: str
) -> None:
    assert summarize_gates(parse_policy({"selection": selection})) == summary


def test_summarize_gates__preset__names_the_thresholds_and_topk() -> None:
    assert summarize_gates(parse_policy({"preset": "conservative"})) == (
        "sharpe >= 1 and max_drawdown <= 0.15 and win_rate >= 0.55 and profit_factor >= 1.5; "
        "top 3 by sharpe"
    )
