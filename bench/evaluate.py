"""Benchmark one policy evaluation at the target size.

10,000 strategies × 20 metrics, and/or gates, a score expression, top-k by side, 50,000
correlation pairs, exposure and hysteresis (with state for part of the strategies). The input is
seeded random. The evaluation is timed once without tracing (`seconds`), then run again under
tracemalloc for its peak allocation (`peak_mb`); `maxrss_mb` is the process's peak resident set.

    uv run python bench/evaluate.py [--strategies N] [--pairs N] [--seed N] [--repeat N]

Target: seconds ≤ 2 and peak ≤ 500 MB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.dsl.model import (  # noqa: E402
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
    ExpressionScore,
    Hysteresis,
    MetricRef,
    Number,
    Policy,
    Sample,
    Selection,
    Side,
    TopK,
    Validation,
)
from policies.engine import (  # noqa: E402
    EvaluationInput,
    EvaluationResult,
    HysteresisState,
    StrategyInput,
    evaluate,
)

AS_OF = datetime(2025, 8, 28, 9, 0, tzinfo=UTC)
METRIC_NAMES = (
    "sharpe",
    "sortino",
    "max_drawdown",
    "win_rate",
    "profit_factor",
    "ulcer",
    "calmar",
    "volatility",
    "turnover",
    "beta",
    "alpha",
    "skew",
    "kurtosis",
    "var_95",
    "cvar_95",
    "avg_trade",
    "history_days",
    "sample_days",
    "n_trades_total",
    "bars",
)


def bench_policy() -> Policy:
    score = BinaryOp(
        "-",
        BinaryOp(
            "+",
            MetricRef("sharpe"),
            BinaryOp("*", Number(0.1), Call("log", (MetricRef("profit_factor"),))),
        ),
        BinaryOp("*", Number(0.2), MetricRef("ulcer")),
    )
    return Policy(
        data_currency=DataCurrency(min_history_seconds=60 * 86_400),
        sample=Sample(min_days=30, min_trades=40, min_bars=500),
        selection=Selection(
            gates=AllOf(
                (
                    Comparison("sharpe", ">=", 0.3),
                    Comparison("max_drawdown", "<=", 0.35),
                    AnyOf(
                        (
                            Comparison("win_rate", ">=", 0.5),
                            Comparison("profit_factor", ">=", 1.3),
                        )
                    ),
                )
            ),
            score=ExpressionScore(expr=score, source="sharpe + 0.1 * log(pf) - 0.2 * ulcer"),
            topk=TopK(total=1000, by_side=(("long", 600), ("short", 400))),
            constraints=Constraints(
                correlation=CorrelationConstraint(max_pairwise=0.8),
                exposure=ExposureConstraint(
                    gross_budget=(("long", 0.6), ("short", 0.4)), max_weight=0.01
                ),
            ),
            hysteresis=Hysteresis(
                promote_after=2,
                demote_after=2,
                min_dwell_seconds=3 * 3600,
                bands=Bands(metric="sharpe", enter=0.6, exit=0.4),
            ),
        ),
        validation=Validation(on_missing_metric="warn"),
    )


def bench_input(
    rng: random.Random, strategies: int, pairs: int
) -> tuple[EvaluationInput, dict[str, HysteresisState]]:
    ids = [f"strategy-{i:05d}" for i in range(strategies)]
    entries: dict[str, StrategyInput] = {}
    for sid in ids:
        metrics: dict[str, object] = {name: rng.uniform(0.0, 2.0) for name in METRIC_NAMES}
        metrics["max_drawdown"] = rng.uniform(0.0, 0.5)
        metrics["win_rate"] = rng.uniform(0.3, 0.7)
        metrics["history_days"] = rng.uniform(30, 400)
        metrics["sample_days"] = rng.uniform(20, 400)
        metrics["n_trades_total"] = rng.randint(10, 2000)
        metrics["bars"] = rng.randint(100, 20_000)
        if rng.random() < 0.02:
            metrics["sharpe"] = float("nan")
        side: Side = "long" if rng.random() < 0.6 else "short"
        entries[sid] = StrategyInput(metrics=metrics, side=side)
    correlations = [
        (ids[rng.randrange(strategies)], ids[rng.randrange(strategies)], rng.uniform(-1.0, 1.0))
        for _ in range(pairs)
    ]
    previous = frozenset(rng.sample(ids, k=min(500, strategies)))
    state: dict[str, HysteresisState] = {}
    for sid in rng.sample(ids, k=strategies // 2):
        active = sid in previous
        state[sid] = HysteresisState(
            consecutive_pass=rng.randint(0, 3),
            consecutive_fail=rng.randint(0, 3),
            active=active,
            last_change_at=AS_OF - timedelta(hours=rng.randint(0, 10)),
            last_counted_as_of=AS_OF - timedelta(hours=1),
        )
    inputs = EvaluationInput(
        strategies=entries, as_of=AS_OF, correlations=correlations, previous=previous
    )
    return inputs, state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is reported")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    pol = bench_policy()
    inputs, state = bench_input(rng, args.strategies, args.pairs)

    timings: list[float] = []
    results: list[EvaluationResult] = []
    for _ in range(max(1, args.repeat)):
        results.clear()  # keep one result alive at a time
        gc.collect()
        started = time.perf_counter()
        results.append(evaluate(pol, inputs, state, advance_state=True))
        timings.append(time.perf_counter() - started)
    result = results[0]

    started = time.perf_counter()
    body = json.dumps(result.to_json())
    to_json_seconds = time.perf_counter() - started

    gc.collect()
    tracemalloc.start()
    evaluate(pol, inputs, state, advance_state=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "strategies": args.strategies,
                "metrics_per_strategy": len(METRIC_NAMES),
                "correlation_pairs": args.pairs,
                "seconds": round(min(timings), 4),
                "seconds_all_runs": [round(t, 4) for t in timings],
                "to_json_seconds": round(to_json_seconds, 4),
                "peak_mb": round(peak / 2**20, 1),
                "maxrss_mb": round(maxrss_kb / 1024, 1),
                "active": len(result.active),
                "activate": len(result.plan.activate),
                "deactivate": len(result.plan.deactivate),
                "response_bytes": len(body),
            }
        )
    )


if __name__ == "__main__":
    main()
