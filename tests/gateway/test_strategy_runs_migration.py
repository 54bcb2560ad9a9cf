"""Runs recorded before runs were indexed by strategy: the migration indexes them, and their
history copies are "not recorded"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from policies.models import EvaluatedStrategy, EvaluationRun

BEFORE = [("policies", "0005_policy_version_preset_fields")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _record_old_run(apps, *, run_id, request, result):
    world_model = apps.get_model("worlds", "World")
    run_model = apps.get_model("policies", "EvaluationRun")
    world, _ = world_model.objects.get_or_create(id="old", defaults={"name": "Old"})
    return run_model.objects.create(
        world=world,
        run_id=run_id,
        fingerprint="sha256:0",
        request=request,
        policy_version=1,
        policy_document={},
        advances_state=False,
        status="completed" if result else "pending",
        result=result,
        actor="tests",
    )


@pytest.mark.django_db(transaction=True)
def test_migration__recorded_runs_indexed_with_as_of_stage_and_no_history_copies():
    old_apps = _migrate(BEFORE)
    try:
        _record_old_run(
            old_apps,
            run_id="done",
            request={
                "metrics": {"s1": {"sharpe": 1}},
                "as_of": "2025-01-01T00:00:00Z",
                "stage": "backtest",
            },
            result={"strategies": {"s1": {"status": "pass"}, "s9": {"status": "fail"}}},
        )
        pending = _record_old_run(
            old_apps, run_id="waiting", request={"metrics": {"s2": {}}, "as_of": None}, result=None
        )
    finally:
        _migrate(_latest())

    done = EvaluationRun.objects.get(run_id="done")
    assert done.as_of == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert done.stage == "backtest"
    assert done.history_snapshot is None
    waiting = EvaluationRun.objects.get(run_id="waiting")
    assert (waiting.as_of, waiting.stage) == (pending.created_at, None)
    indexed = EvaluatedStrategy.objects.order_by("run_id", "strategy_id")
    assert [(row.run.run_id, row.strategy_id, row.world_id) for row in indexed] == [
        ("done", "s1", "old"),
        ("done", "s9", "old"),
        ("waiting", "s2", "old"),
    ]
