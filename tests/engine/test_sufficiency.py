"""Steps 1–2: history (data currency) and sample sufficiency."""

from __future__ import annotations

import pytest

from policies.dsl.model import DataCurrency, Sample
from policies.engine import result as codes
from tests.engine.helpers import policy, run

SIXTY_DAYS = 60 * 86_400


def test_history__shorter_than_min_history__insufficient_not_scored_not_selected() -> None:
    pol = policy(gates="sharpe >= 0", data_currency=DataCurrency(min_history_seconds=SIXTY_DAYS))

    result = run(pol, {"s1": {"history_days": 59.5, "sharpe": 2.0}})

    s1 = result.strategies["s1"]
    assert s1.status == "insufficient"
    assert (s1.score, s1.rank, s1.selected, s1.gates) == (None, None, False, ())
    assert codes.INSUFFICIENT_HISTORY in s1.reasons
    assert result.active == ()


def test_history__exactly_min_history__sufficient() -> None:
    pol = policy(data_currency=DataCurrency(min_history_seconds=SIXTY_DAYS))

    result = run(pol, {"s1": {"history_days": 60, "sharpe": 1.0}})

    assert result.strategies["s1"].status == "pass"
    assert result.active == ("s1",)


def test_history__history_days_missing__insufficient() -> None:
    pol = policy(data_currency=DataCurrency(min_history_seconds=SIXTY_DAYS))

    result = run(pol, {"s1": {"history_days": float("nan"), "sharpe": 1.0}})

    assert result.strategies["s1"].status == "insufficient"


def test_history__no_min_history__history_not_read() -> None:
    assert run(policy(), {"s1": {}}).strategies["s1"].status == "pass"


@pytest.mark.parametrize(
    ("sample", "metrics", "expected"),
    [
        (Sample(min_days=30), {"sample_days": 29}, "insufficient"),
        (Sample(min_days=30), {"sample_days": 30}, "pass"),
        (Sample(min_trades=40), {"trades": 39}, "insufficient"),
        (Sample(min_trades=40), {"trades": 40}, "pass"),
        (Sample(min_trades=40), {"n_trades_total": 40}, "pass"),
        (Sample(min_trades=40), {"n_trades_total": 39}, "insufficient"),
        (Sample(min_trades=40), {"trades": None, "n_trades_total": 41}, "pass"),
        (Sample(min_bars=500), {"bars": 499}, "insufficient"),
        (Sample(min_bars=500), {"bars": 500}, "pass"),
        (Sample(min_bars=500), {}, "insufficient"),
        (
            Sample(min_days=30, min_trades=40, min_bars=500),
            {"sample_days": 31, "trades": 41, "bars": 501},
            "pass",
        ),
        (
            Sample(min_days=30, min_trades=40, min_bars=500),
            {"sample_days": 31, "trades": 41, "bars": 1},
            "insufficient",
        ),
    ],
)
def test_sample__against_minimums__status(
    sample: Sample, metrics: dict[str, object], expected: str
) -> None:
    result = run(policy(sample=sample), {"s1": metrics})

    s1 = result.strategies["s1"]
    assert s1.status == expected
    assert (codes.INSUFFICIENT_SAMPLE in s1.reasons) is (expected == "insufficient")


def test_sufficiency__short_history_and_sample__both_reported_and_gates_skipped() -> None:
    pol = policy(
        gates="sharpe >= 100",
        data_currency=DataCurrency(min_history_seconds=SIXTY_DAYS),
        sample=Sample(min_days=30),
    )

    result = run(pol, {"s1": {"history_days": 1, "sample_days": 1, "sharpe": 1}})

    s1 = result.strategies["s1"]
    assert s1.reasons[:2] == (codes.INSUFFICIENT_HISTORY, codes.INSUFFICIENT_SAMPLE)
    assert codes.GATES_FAIL not in s1.reasons
