"""The planner words its problems as the shared field readers do (docs/rebalancing.md)."""

from __future__ import annotations

from typing import Any

import pytest

from rebalancing.planner import RebalanceValidationError, parse_rebalance_request

from .test_planner_support import body, pos


def errors_of(data: Any) -> dict[str, list[str]]:
    with pytest.raises(RebalanceValidationError) as caught:
        parse_rebalance_request(data, compat_v2=True, alpha_metrics_required=False)
    return caught.value.errors


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (None, "non_field_errors", "must be a mapping, not null"),
        (body(total_equity="1000"), "total_equity", "must be a number, not text"),
        (body(total_equity=-1), "total_equity", "must be between 0 and 1e+18"),
        (body(world_alloc_after={"w1": 1.5}), "world_alloc_after.w1", "must be between 0 and 1"),
        (
            body(world_alloc_before={"W 1": 0.5}),
            "world_alloc_before.W 1",
            "is not a valid world id (^[a-z0-9][a-z0-9_.-]{0,63}$)",
        ),
        (body(positions=[None]), "positions[0]", "must be a mapping, not null"),
        (
            body(positions=[pos("w1", "s|x", "X", 1, 1)]),
            "positions[0].strategy_id",
            "must not contain whitespace or '|'",
        ),
        (body(mode="SCALING"), "mode", "must be scaling, overlay or hybrid, not 'SCALING'"),
        (body(schema_version=3), "schema_version", "must be at most 2"),
        (
            body(strategy_alloc_after_total={"w1": None}),
            "strategy_alloc_after_total.w1",
            "must be a mapping, not null",
        ),
        (body(surprise=1), "surprise", None),
    ],
)
def test_parse__bad_field__shared_wording(data: Any, path: str, message: str | None) -> None:
    errors = errors_of(data)

    assert path in errors, errors
    if message is not None:
        assert errors[path] == [message]
    else:
        assert errors[path][0].startswith("unknown key 'surprise'; expected one of: ")


def test_parse__detail__first_problem_without_a_doubled_full_stop() -> None:
    with pytest.raises(RebalanceValidationError) as caught:
        parse_rebalance_request(
            body(total_equity="x"), compat_v2=False, alpha_metrics_required=False
        )

    assert (
        caught.value.detail
        == "Invalid rebalance request: total_equity: must be a number, not text."
    )
