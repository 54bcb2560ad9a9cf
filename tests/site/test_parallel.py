"""Each pytest-xdist worker gets Redis databases of its own (tests/parallel.py)."""

from __future__ import annotations

import pytest

from tests.parallel import ASSIGNED_MARK, assign_worker_databases, max_workers

BASE = {
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
    "TEST_EVENTS_REDIS_URL": "redis://127.0.0.1:6379/15",
}


def _urls(env: dict[str, str]) -> tuple[str, str, str]:
    return env["REDIS_URL"], env["CELERY_BROKER_URL"], env["TEST_EVENTS_REDIS_URL"]


def test_assign__outside_xdist__urls_as_given() -> None:
    env = dict(BASE)

    assign_worker_databases(env)

    assert env == BASE


@pytest.mark.parametrize(
    ("worker", "databases"), [("gw0", (1, 2, 3)), ("gw1", (4, 5, 6)), ("gw4", (13, 14, 15))]
)
def test_assign__worker__three_databases_of_its_own(
    worker: str, databases: tuple[int, int, int]
) -> None:
    env = {**BASE, "PYTEST_XDIST_WORKER": worker}

    assign_worker_databases(env)

    assert _urls(env) == tuple(f"redis://127.0.0.1:6379/{db}" for db in databases)
    assert env[ASSIGNED_MARK] == worker


def test_assign__inherited_by_a_child_process__not_moved_again() -> None:
    env = {**BASE, "PYTEST_XDIST_WORKER": "gw1"}
    assign_worker_databases(env)
    child = {**env, "REDIS_URL": "redis://127.0.0.1:7000/0"}  # a fault test's private Redis

    assign_worker_databases(child)

    assert child["REDIS_URL"] == "redis://127.0.0.1:7000/0"


def test_assign__more_workers_than_databases__refused_naming_the_bound() -> None:
    env = {**BASE, "PYTEST_XDIST_WORKER": "gw5"}

    with pytest.raises(RuntimeError, match="at most 5 workers"):
        assign_worker_databases(env)


def test_max_workers__by_the_first_database() -> None:
    assert max_workers(BASE) == 5
    assert max_workers({"REDIS_URL": "redis://127.0.0.1:6379/0"}) == 5
    assert max_workers({"REDIS_URL": "redis://127.0.0.1:6379/10"}) == 2
    assert max_workers({}) is None
