"""Redis paused, Redis killed, PostgreSQL restarted: under a small load, through a real gunicorn
and a real Celery worker (with beat) on a PRIVATE Redis and PostgreSQL (tests/faults/dependencies).

Each test runs the same bounded load (two decide readers, one activation reader, one /readyz
poller, one writer alternating a circuit-breaker PATCH and an activation PUT) before, during and
after the fault, then checks what issue 11 asks:

- every request's latency stays within its dependency's timeout plus a margin;
- decide never answers `live` while the circuit breaker is known to be on;
- /readyz is 503 naming the dependency while it is down;
- a write either succeeds or is refused with 503 `dependency_unavailable` JSON, and leaves nothing
  behind when refused;
- everything recovers by itself (no command is run after the fault);
- every acknowledged write has its audit row and its outbox event (matched by correlation id),
  every event reaches the stream, and the activation entry is the last acknowledged PUT.

The measured latencies are printed (run with `-s` to see them).
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.faults.dependencies import Answer, PrivateStack, call, private_stack, wait_for
from tests.processes import subprocess_database_url

# `django_db` makes pytest-django create the test database, which the private stack copies.
pytestmark = [pytest.mark.faults, pytest.mark.django_db]

REDIS_TIMEOUT = 1.0  # the defaults of WORLDSERVICE_REDIS_TIMEOUT_MS / _CONNECT_TIMEOUT_MS
DB_CONNECT_TIMEOUT = 3.0  # the default of WORLDSERVICE_DB_CONNECT_TIMEOUT_SECONDS
# Two sync workers serve five client threads, so a request may also queue behind another one
# that is paying its own timeout; and the CI machine is shared.
MARGIN = 2.5
STRATEGY = "bench-s0000"
MAX_REQUESTS_PER_THREAD = 400
OUTAGE_CODES = {"dependency_unavailable", "activation_rebuilding"}


@pytest.fixture(scope="module")
def stack(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrivateStack]:
    log_dir: Path = tmp_path_factory.mktemp("private-stack")
    # The migrated test database (pytest-django made it), copied: faster than migrating again.
    schema = subprocess_database_url()
    with private_stack(log_dir, schema, WORLDSERVICE_APPLY_WAIT_SECONDS="2") as running:
        yield running


class World:
    """A world on the private stack whose decide answers `live`, and two tokens for it."""

    def __init__(self, stack: PrivateStack, world_id: str) -> None:
        self.stack = stack
        self.id = world_id
        out = stack.run(
            sys.executable, "bench/setup_bench_world.py", "--world", world_id,
            "--strategies", "4", "--user", f"{world_id}-gateway", "--role", "operator",
        )  # fmt: skip
        self.operator = out.strip().splitlines()[-1]
        out = stack.run(sys.executable, "manage.py", "issue_token", "bench_owner")
        self.owner = out.strip().splitlines()[-1]

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        return call(self.stack.web_port, "GET", path, token=token or self.operator, timeout=30)

    def decide(self) -> tuple[int, Any]:
        return self.get(f"/worlds/{self.id}/decide")


class Load:
    """The bounded load: a few threads, each with a request budget, recording every answer."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.port = world.stack.web_port
        self.phase = "before"
        self.down_at = float("inf")  # when the fault began
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._breaker = False  # the last acknowledged state: every PATCH is a real change

    def _request(self, kind: str, method: str, path: str, token: str, body: Any = None) -> Answer:
        correlation_id = f"faults-{uuid.uuid4().hex[:16]}"
        phase = self.phase
        started = time.monotonic()
        try:
            status, parsed = call(
                self.port, method, path, token=token, body=body,
                correlation_id=correlation_id, timeout=30,
            )  # fmt: skip
        except OSError as exc:  # a dropped connection is an answer too (and a failure)
            status, parsed = 0, repr(exc)
        answer = Answer(
            kind, method, path, correlation_id, started, time.monotonic(), status, parsed, phase
        )
        with self._lock:
            self.answers.append(answer)
        return answer

    def _loop(self, action: Callable[[int], None], pause: float) -> None:
        for index in range(MAX_REQUESTS_PER_THREAD):
            if self._stop.is_set():
                return
            action(index)
            self._stop.wait(pause)

    def _decide(self, index: int) -> None:
        self._request("decide", "GET", f"/worlds/{self.world.id}/decide", self.world.operator)

    def _activation(self, index: int) -> None:
        path = f"/worlds/{self.world.id}/activation?strategy_id={STRATEGY}&side=long"
        self._request("activation", "GET", path, self.world.operator)

    def _readyz(self, index: int) -> None:
        self._request("readyz", "GET", "/readyz", "")

    def _write(self, index: int) -> None:
        body: dict[str, Any]
        if index % 2 == 0:
            path = f"/worlds/{self.world.id}"
            body = {"circuit_breaker": not self._breaker}
            answer = self._request("breaker", "PATCH", path, self.world.owner, body)
            if answer.status == 200:
                self._breaker = bool(answer.body["circuit_breaker"])
        else:
            body = {"strategy_id": STRATEGY, "side": "long", "active": True,
                    "weight": round(index / 1000, 3)}  # fmt: skip
            path = f"/worlds/{self.world.id}/activation"
            self._request("override", "PUT", path, self.world.operator, body)

    def start(self) -> None:
        plan = [
            (self._decide, 0.02), (self._decide, 0.02), (self._activation, 0.02),
            (self._readyz, 0.25), (self._write, 0.15),
        ]  # fmt: skip
        for action, pause in plan:
            thread = threading.Thread(target=self._loop, args=(action, pause), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> list[Answer]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in self._threads), "a load thread hung"
        return sorted(self.answers, key=lambda answer: answer.started)


def _run_fault(world: World, fault: Callable[[Load], None]) -> tuple[list[Answer], float]:
    """The load for 2 s, then `fault` (which sets the phases), then 3 s more; the answers and
    the moment the fault began."""
    load = Load(world)
    load.start()
    try:
        time.sleep(2)
        load.down_at = time.monotonic()
        fault(load)
        load.phase = "after"
        time.sleep(3)
    finally:
        answers = load.stop()
    return answers, load.down_at


# -- checks ------------------------------------------------------------------------------------


def _report(name: str, answers: list[Answer]) -> None:
    """Print the latencies per phase and kind (shown with -s, and kept in the test's log)."""
    lines = [f"{name}: {len(answers)} requests"]
    for phase, kind in itertools.product(
        ("before", "down", "after"), sorted({a.kind for a in answers})
    ):
        chosen = sorted(a.seconds for a in answers if a.phase == phase and a.kind == kind)
        if chosen:
            statuses = sorted({a.status for a in answers if a.phase == phase and a.kind == kind})
            p95 = chosen[max(0, int(len(chosen) * 0.95) - 1)]
            lines.append(
                f"  {phase:6} {kind:10} n={len(chosen):3} max={chosen[-1] * 1000:7.1f} ms "
                f"p95={p95 * 1000:7.1f} ms statuses={statuses}"
            )
    print("\n".join(lines))  # noqa: T201 - the figures the report quotes


def _assert_latencies(answers: list[Answer], bound: float) -> None:
    slow = [a for a in answers if a.seconds > bound]
    assert not slow, [(a.kind, a.phase, round(a.seconds, 2), a.status) for a in slow]


def _assert_clean_answers(answers: list[Answer], down_at: float) -> None:
    """Every answer is a success, a 404 (no entry: inactive) or a 503 with the usual body;
    an answer complete before the fault began is a success."""
    before = [a for a in answers if a.ended < down_at and not 200 <= a.status < 300]
    assert not before, [(a.kind, a.status, a.body, round(a.seconds, 2)) for a in before]
    for answer in answers:
        if not _is_plainly_fine(answer):
            _assert_outage_answer(answer)


def _is_plainly_fine(answer: Answer) -> bool:
    """A success, a /readyz answer (checked apart), or an activation 404 (no entry: inactive)."""
    if answer.kind == "readyz" or 200 <= answer.status < 300:
        return True
    return answer.kind == "activation" and answer.status == 404


def _assert_outage_answer(answer: Answer) -> None:
    assert answer.status == 503, (answer.kind, answer.phase, answer.status, answer.body)
    assert isinstance(answer.body, dict) and answer.body["code"] in OUTAGE_CODES, answer.body
    assert answer.body["detail"]


def _breaker_known_on(answer: Answer, patches: list[Answer]) -> bool:
    """Whether the breaker was certainly on for the whole of `answer`.

    The state is known after an acknowledged PATCH until the next PATCH is sent; a refused or
    failed PATCH leaves it unknown (a commit may have happened before the connection broke).
    """
    state: bool | None = False  # the world starts with the breaker off
    for patch in patches:
        if patch.started < answer.ended and patch.ended > answer.started:
            return False  # in flight meanwhile: either state may be seen
        if patch.ended <= answer.started:
            ok = 200 <= patch.status < 300
            state = bool(patch.body["circuit_breaker"]) if ok else None
    return state is True


def _assert_never_stale_live(answers: list[Answer]) -> int:
    patches = [a for a in answers if a.kind == "breaker"]
    checked = 0
    for answer in answers:
        if answer.kind != "decide" or answer.status != 200:
            continue
        assert answer.body["effective_mode"] in {"live", "compute-only"}, answer.body
        if _breaker_known_on(answer, patches):
            checked += 1
            assert answer.body["effective_mode"] != "live", (answer.phase, answer.body)
    return checked


def _assert_readyz_down(answers: list[Answer], dependency: str) -> None:
    down = [a for a in answers if a.kind == "readyz" and a.phase == "down"]
    assert down, "no /readyz answer while the dependency was down"
    refused = [a for a in down if a.status == 503]
    assert refused, [(a.status, a.body) for a in down]
    _assert_not_ready_without_details(refused)
    assert any(dependency in a.body["down"] for a in refused)


def _assert_not_ready_without_details(refused: list[Answer]) -> None:
    for answer in refused:
        assert answer.body["code"] == "not_ready"
        assert answer.body["checks"][answer.body["down"][0]] == "unavailable"  # no error text


def _assert_writes_recorded(stack: PrivateStack, answers: list[Answer]) -> tuple[int, int]:
    """Acknowledged writes have their audit row and event; refused ones left nothing."""
    writes = [a for a in answers if a.kind in {"breaker", "override"}]
    acked = [a for a in writes if 200 <= a.status < 300]
    refused = [a for a in writes if a.status == 503]
    rows = _count_by_correlation(stack, "worlds_worldauditlog")
    events = _count_by_correlation(stack, "worlds_worldevent")
    for answer in acked:
        assert rows.get(answer.correlation_id), f"no audit row for {answer.kind} {answer.body}"
        assert events.get(answer.correlation_id), f"no event for {answer.kind} {answer.body}"
    _assert_refused_left_no_rows(refused, rows)
    return len(acked), len(refused)


def _count_by_correlation(stack: PrivateStack, table: str) -> dict[str, int]:
    return dict(
        stack.postgres.query(
            f"SELECT correlation_id, count(*) FROM {table} "  # noqa: S608 - our own table names
            "WHERE correlation_id LIKE 'faults-%%' GROUP BY correlation_id"
        )
    )


def _assert_refused_left_no_rows(refused: list[Answer], rows: dict[str, int]) -> None:
    for answer in refused:
        if answer.phase != "down" or answer.body.get("code") != "dependency_unavailable":
            continue
        # Refused before anything was recorded (a commit that broke off is not refused: 5xx).
        assert not rows.get(answer.correlation_id), answer.body


def _recovered(world: World, answers: list[Answer]) -> None:
    """Without any help, the service answers normally again and has caught up."""
    stack = world.stack
    wait_for(
        lambda: world.get("/readyz", token="")[0] == 200,
        timeout=30, message="/readyz to answer 200 again", stack=stack,
    )  # fmt: skip

    def breaker_off() -> bool:
        path = f"/worlds/{world.id}"
        status, _ = call(stack.web_port, "PATCH", path, token=world.owner,
                         body={"circuit_breaker": False}, timeout=30)  # fmt: skip
        return status == 200

    wait_for(breaker_off, timeout=30, message="a write to succeed again", stack=stack)
    wait_for(
        lambda: (found := world.decide())[0] == 200 and found[1]["effective_mode"] == "live",
        timeout=30, message="decide to answer live again", stack=stack,
    )  # fmt: skip
    puts = [a for a in answers if a.kind == "override" and 200 <= a.status < 300]
    entry_path = f"/worlds/{world.id}/activation?strategy_id={STRATEGY}&side=long"
    status, entry = wait_for(
        lambda: (found := world.get(entry_path))[0] == 200 and found,
        timeout=30, message="the activation entry to be readable again", stack=stack,
    )  # fmt: skip
    if puts:
        assert entry["weight"] == puts[-1].body["weight"], (entry, puts[-1].body)
    wait_for(
        lambda: stack.postgres.query(
            "SELECT count(*) FROM worlds_worldevent WHERE relayed_at IS NULL"
        )[0][0] == 0,
        timeout=30, message="the outbox to be relayed", stack=stack,
    )  # fmt: skip


def _check(world: World, run: tuple[list[Answer], float], *, dependency: str, bound: float) -> None:
    answers, down_at = run
    _report(world.id, answers)
    _assert_latencies(answers, bound)
    _assert_clean_answers(answers, down_at)
    _assert_readyz_down(answers, dependency)
    _assert_never_stale_live(answers)
    acked, refused = _assert_writes_recorded(world.stack, answers)
    assert acked > 0 and refused > 0, (acked, refused)
    _recovered(world, answers)


# -- the faults --------------------------------------------------------------------------------


def test_redis_paused__requests_bounded__decide_safe__writes_refused__recovers(stack):
    world = World(stack, "paused")
    assert world.decide()[1]["effective_mode"] == "live"

    def pause(load: Load) -> None:
        load.phase = "down"
        stack.redis.pause()  # SIGSTOP: connections stay open and nothing answers
        try:
            time.sleep(6)
        finally:
            stack.redis.resume()

    run = _run_fault(world, pause)

    _check(world, run, dependency="redis", bound=REDIS_TIMEOUT + MARGIN)


def test_redis_killed__restarted_empty__bounded__rebuilt__recovers(stack):
    world = World(stack, "killed")
    assert world.decide()[1]["effective_mode"] == "live"

    def kill_and_restart(load: Load) -> None:
        load.phase = "down"
        stack.redis.kill()  # SIGKILL; without persistence the restarted Redis is empty
        time.sleep(5)
        stack.redis.start()

    run = _run_fault(world, kill_and_restart)

    _check(world, run, dependency="redis", bound=REDIS_TIMEOUT + MARGIN)
    assert redis.Redis.from_url(stack.redis.url(0)).ping()


def test_postgres_restarted__bounded__decide_safe__writes_refused__recovers(stack):
    world = World(stack, "restarted")
    assert world.decide()[1]["effective_mode"] == "live"

    def restart(load: Load) -> None:
        load.phase = "down"
        stack.postgres.stop()  # fast shutdown: sessions are ended, new ones refused
        try:
            time.sleep(5)
        finally:
            stack.postgres.start()

    run = _run_fault(world, restart)

    _check(world, run, dependency="database", bound=DB_CONNECT_TIMEOUT + MARGIN)
