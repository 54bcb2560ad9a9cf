"""Two web instances and two Celery workers on one PostgreSQL and one Redis, as two machines
would run them (docs/deployment.md, "What scales and why it stays correct").

Instance A is the production web server (`bin/web`) on one port with a worker that also runs
beat; instance B is another one on another port with a worker of its own. Every process is
separate, so nothing is shared but the two servers. The test checks:

- an override written through one instance is what the other instance answers on the very next
  request (the per-process copies are invalidated across processes);
- applies sent at the same moment through both instances: one at a time per world (single
  flight), every accepted run completes, and a run_id repeated through the other instance is
  the same run, not a second one;
- decide keeps answering 200 on both instances throughout;
- every acknowledged write has its audit row and its outbox event, and every event reaches the
  stream; no world is left frozen.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.dependencies import PrivateStack, call, private_stack, wait_for
from tests.processes import free_port, subprocess_database_url

# `django_db` makes pytest-django create the test database, which the private stack copies.
pytestmark = [pytest.mark.faults, pytest.mark.django_db]

WORLD = "two-instances"
STRATEGIES = [f"bench-s{index:04d}" for index in range(4)]
CONCURRENT_APPLIES = 6


class TwoInstances:
    def __init__(self, stack: PrivateStack) -> None:
        self.stack = stack
        self.ports = [stack.web_port, free_port()]
        self.second_web = stack.start_web(self.ports[1])
        self.second_worker = stack.start_worker(f"second-{self.ports[1]}", beat=False)
        out = stack.run(
            sys.executable, "bench/setup_bench_world.py", "--world", WORLD,
            "--strategies", str(len(STRATEGIES)), "--user", "gateway", "--role", "operator",
        )  # fmt: skip
        self.token = out.strip().splitlines()[-1]
        self.correlation_ids: list[str] = []

    def call(
        self, instance: int, method: str, path: str, body: Any = None, *, repeat: bool = False
    ) -> tuple[int, Any]:
        """One request; an acknowledged write is remembered for the audit and event checks,
        unless it is a `repeat` (an idempotent replay records nothing new)."""
        correlation_id = f"two-{uuid.uuid4().hex[:16]}"
        status, parsed = call(
            self.ports[instance], method, path, token=self.token, body=body,
            correlation_id=correlation_id, timeout=60,
        )  # fmt: skip
        if method != "GET" and not repeat and 200 <= status < 300:
            self.correlation_ids.append(correlation_id)
        return status, parsed


@pytest.fixture(scope="module")
def instances(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TwoInstances]:
    log_dir: Path = tmp_path_factory.mktemp("two-instances")
    with private_stack(log_dir, subprocess_database_url(), server="bin/web") as stack:
        yield TwoInstances(stack)


def _entry_path(strategy: str) -> str:
    return f"/worlds/{WORLD}/activation?strategy_id={strategy}&side=long"


def test_override_through_one_instance__next_read_through_the_other_sees_it(instances):
    strategy = STRATEGIES[0]
    for index in range(12):
        writer, reader = index % 2, (index + 1) % 2
        weight = round(0.05 + index / 100, 2)
        body = {"strategy_id": strategy, "side": "long", "active": True, "weight": weight}
        status, written = instances.call(writer, "PUT", f"/worlds/{WORLD}/activation", body)
        assert status == 200, written

        status, read = instances.call(reader, "GET", _entry_path(strategy))
        assert status == 200, read
        assert read["weight"] == weight
        assert read["etag"] == written["etag"]


def _send_apply(instances: TwoInstances, index: int, results: list[Any], start: Any) -> None:
    run_id = f"two-apply-{index}-{uuid.uuid4().hex[:8]}"
    plan = {"activate": [STRATEGIES[index % len(STRATEGIES)]], "deactivate": []}
    start.wait(timeout=30)
    body = {"run_id": run_id, "plan": plan}
    status, answer = instances.call(index % 2, "POST", f"/worlds/{WORLD}/apply", body)
    results[index] = (run_id, body, status, answer)


def _wait_finished(instances: TwoInstances, run_id: str) -> dict[str, Any]:
    path = f"/worlds/{WORLD}/apply/{run_id}"

    def finished() -> dict[str, Any] | None:
        status, body = instances.call(0, "GET", path)
        assert status == 200, body
        return body if body["phase"] in ("completed", "rolled_back") else None

    return wait_for(finished, timeout=90, message=f"apply {run_id}", stack=instances.stack)


def _decide_keeps_answering(instances: TwoInstances, stop: threading.Event, seen: list[int]):
    while not stop.is_set():
        for instance in (0, 1):
            seen.append(instances.call(instance, "GET", f"/worlds/{WORLD}/decide")[0])
        stop.wait(0.02)


def _send_applies_at_once(instances: TwoInstances) -> list[Any]:
    results: list[Any] = [None] * CONCURRENT_APPLIES
    start = threading.Barrier(CONCURRENT_APPLIES)
    threads = [
        threading.Thread(target=_send_apply, args=(instances, index, results, start))
        for index in range(CONCURRENT_APPLIES)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _assert_single_flight_and_idempotent(instances: TwoInstances, results: list[Any]) -> None:
    accepted = [r for r in results if r[2] in (200, 202)]
    busy = [r for r in results if r[2] == 409]
    assert len(accepted) + len(busy) == CONCURRENT_APPLIES, results
    assert accepted, results
    assert all(r[3]["code"] == "apply_in_progress" for r in busy), busy
    for run_id, body, _status, _answer in accepted:
        _assert_completes_and_replays_as_itself(instances, run_id, body)


def _assert_completes_and_replays_as_itself(
    instances: TwoInstances, run_id: str, body: dict[str, Any]
) -> None:
    assert _wait_finished(instances, run_id)["phase"] == "completed"
    # The same run_id through the other instance is the same run, not a second one.
    status, again = instances.call(1, "POST", f"/worlds/{WORLD}/apply", body, repeat=True)
    assert status == 200, again
    assert again["run_id"] == run_id, again


def test_concurrent_applies_through_both__single_flight_and_idempotent(instances):
    stop = threading.Event()
    statuses: list[int] = []
    reader = threading.Thread(target=_decide_keeps_answering, args=(instances, stop, statuses))
    reader.start()
    try:
        _assert_single_flight_and_idempotent(instances, _send_applies_at_once(instances))
    finally:
        stop.set()
        reader.join(timeout=30)
    assert statuses and set(statuses) == {200}, sorted(set(statuses))
    _assert_runs_never_overlapped(instances.stack)


def _assert_runs_never_overlapped(stack: PrivateStack) -> None:
    runs = stack.postgres.query(
        "SELECT r.created_at, r.finished_at FROM activation_applyrun r "
        "JOIN worlds_world w ON w.id = r.world_id WHERE w.id = %s ORDER BY r.created_at",
        (WORLD,),
    )
    for (_, finished), (next_started, _) in zip(runs, runs[1:], strict=False):
        assert finished is not None and finished <= next_started, runs


def test_every_acknowledged_write__audit_row_event_on_stream_and_nothing_frozen(instances):
    stack = instances.stack
    ids = tuple(instances.correlation_ids)
    assert ids, "the earlier tests acknowledged no write"
    audited = {row[0] for row in stack.postgres.query(
        "SELECT DISTINCT correlation_id FROM worlds_worldauditlog WHERE correlation_id = ANY(%s)",
        (list(ids),),
    )}  # fmt: skip
    evented = {row[0] for row in stack.postgres.query(
        "SELECT DISTINCT correlation_id FROM worlds_worldevent WHERE correlation_id = ANY(%s)",
        (list(ids),),
    )}  # fmt: skip
    assert set(ids) <= audited, set(ids) - audited
    assert set(ids) <= evented, set(ids) - evented

    def relayed() -> bool:
        pending = stack.postgres.query(
            "SELECT count(*) FROM worlds_worldevent WHERE relayed_at IS NULL"
        )
        return pending[0][0] == 0

    wait_for(relayed, timeout=60, message="every event relayed", stack=stack)
    for strategy in STRATEGIES:
        status, entry = instances.call(1, "GET", _entry_path(strategy))
        if status == 200:
            assert entry["freeze"] is False and entry["drain"] is False, entry
