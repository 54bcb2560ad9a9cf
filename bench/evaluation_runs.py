"""What recording and reading evaluation runs cost at the target size, through the services.

Creates a fresh world (sandbox-like policy, no review), a history entry for each of N strategies,
then records and carries out one evaluation of N strategies × 20 metrics, timing the run's two
extra writes separately: the index of the strategies it evaluated and the copies of their
history entries. It then records three more runs and times the reads of one strategy: its runs
(the strategy's part selected in the database), one run's history copy, and, for comparison,
loading the runs' whole documents into Python.

    uv run python bench/evaluation_runs.py [--strategies 10000] [--seed 1]

Run it with DATABASE_URL pointing at a migrated database you may write to. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "worldservice.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402

from policies import selectors  # noqa: E402
from policies.models import EvaluationRun, HistoryEntry  # noqa: E402
from policies.services import evaluations  # noqa: E402
from policies.services.uploads import PolicySource, upload_policy  # noqa: E402
from worlds.services.worlds import create_world  # noqa: E402

AS_OF = datetime(2025, 1, 2, tzinfo=UTC)
POLICY = "selection: {gates: ['m0 >= 0.1'], topk: {total: 100}}"


def _timed(spent: dict[str, float], name: str, call: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

    return wrapper


def _evaluate(user: User, world_id: str, metrics: dict[str, Any], run_id: str) -> float:
    started = time.perf_counter()
    run = evaluations.request_evaluation(
        actor=user,
        world_id=world_id,
        request=evaluations.EvaluationRequest(metrics=metrics, run_id=run_id, as_of=AS_OF),
    )
    evaluations.carry_out_evaluation(run.pk)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    ids = [f"strategy-{i:05d}" for i in range(args.strategies)]
    metrics = {sid: {f"m{j}": rng.random() for j in range(20)} for sid in ids}

    user, _ = User.objects.get_or_create(username="bench_runs", defaults={"is_superuser": True})
    world_id = f"bench-runs-{uuid.uuid4().hex[:12]}"
    world = create_world(actor=user, world_id=world_id, name="Bench runs", approvals_required=0)
    upload_policy(actor=user, world_id=world_id, source=PolicySource(text=POLICY))
    HistoryEntry.objects.bulk_create(
        HistoryEntry(
            world=world,
            strategy_id=sid,
            node_id="n",
            interval=60,
            rows=10,
            dataset_fingerprint="fp",
            as_of=datetime(2025, 1, 1, tzinfo=UTC),
        )
        for sid in ids
    )

    spent: dict[str, float] = {}
    evaluations._index_evaluated = _timed(spent, "index", evaluations._index_evaluated)  # noqa: SLF001
    evaluations.history_snapshot = _timed(spent, "history_copies", evaluations.history_snapshot)
    first = _evaluate(user, world_id, metrics, "run-0")
    for n in range(1, 4):
        _evaluate(user, world_id, metrics, f"run-{n}")

    probe = ids[len(ids) // 2]
    started = time.perf_counter()
    listed = list(selectors.strategy_runs(world_id, probe).order_by("-id")[:50])
    list_seconds = time.perf_counter() - started
    started = time.perf_counter()
    selectors.strategy_run_history(world_id, probe, "run-1")
    history_seconds = time.perf_counter() - started
    started = time.perf_counter()
    whole = [run.result["strategies"][probe] for run in EvaluationRun.objects.filter(world=world)]
    whole_seconds = time.perf_counter() - started

    print(
        json.dumps(
            {
                "strategies": args.strategies,
                "first_run_seconds": round(first, 3),
                "index_seconds": round(spent["index"] / 4, 3),
                "history_copies_seconds": round(spent["history_copies"] / 4, 3),
                "runs_listed": len(listed),
                "list_one_strategy_seconds": round(list_seconds, 4),
                "one_history_copy_seconds": round(history_seconds, 4),
                "whole_documents_seconds": round(whole_seconds, 3),
                "whole_documents_runs": len(whole),
            }
        )
    )


if __name__ == "__main__":
    main()
