"""A long mixed load against a whole private deployment, with a Redis and a worker restart.

Starts its own deployment from the test helpers (tests/faults/dependencies.py): a private
PostgreSQL and Redis, the production web server (`bin/web`), a Celery worker with beat, and the
relay process. It prepares a world (bench/setup_bench_world.py) and drives it for `--seconds`
(default 300) with `--clients` threads (default 8) choosing, per request:

- 90% reads: decide and the activation entry, half each;
- 5% activation overrides (PUT);
- 4% evaluations (POST …/evaluate, with random metrics);
- 1% applies (POST …/apply of one random strategy; 409 `apply_in_progress` is a fine answer).

At 40% of the run it restarts Redis (killed, started empty: no persistence) and at 60% it kills
the worker and starts a new one. A fault window lasts from the fault until /readyz answers 200
again, plus `--grace` seconds. At the end it waits for applies and evaluations to finish (beat
sends the task of an evaluation lost with the killed worker again) and the outbox to drain,
then checks and prints, as JSON:

- every acknowledged write has its audit row (overrides, evaluations, applies) and its outbox
  event (overrides, applies), matched by correlation id: `lost_audit_rows`, `lost_events`;
- every recorded event is on the stream (relayed, or re-published after the restart):
  `events_missing_from_stream`;
- no 5xx outside the fault windows: `server_errors_outside_faults`;
- the audit hash chain verifies and no activation entry is left frozen or draining.

    uv run python bench/load_mix.py [--seconds 300] [--clients 8] [--grace 5]

The exit status is 1 when any check fails. Results and method: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.dependencies import PrivateStack, call, private_stack  # noqa: E402

WORLD = "load-mix"
STRATEGIES = [f"bench-s{index:04d}" for index in range(20)]
MIX = (("decide", 45), ("activation", 45), ("override", 5), ("evaluate", 4), ("apply", 1))
AUDITED = {"override", "evaluate", "apply"}
EVENTED = {"override", "apply"}


@dataclass(frozen=True, slots=True)
class Answer:
    kind: str
    correlation_id: str
    run_id: str
    started: float
    ended: float
    status: int


@dataclass
class Faults:
    """The fault windows, as (start, end) monotonic times."""

    windows: list[tuple[float, float]] = field(default_factory=list)

    def covers(self, answer: Answer) -> bool:
        return any(start <= answer.ended and answer.started <= end for start, end in self.windows)


class Load:
    def __init__(self, stack: PrivateStack, token: str, seed: int) -> None:
        self.stack = stack
        self.token = token
        self.answers: list[Answer] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - a load mix, not security
        self._kinds = [kind for kind, _ in MIX]
        self._weights = [weight for _, weight in MIX]

    def _request(self, kind: str, run_id: str) -> tuple[str, str, Any]:
        strategy = self._random.choice(STRATEGIES)
        if kind == "decide":
            return "GET", f"/worlds/{WORLD}/decide", None
        if kind == "activation":
            return "GET", f"/worlds/{WORLD}/activation?strategy_id={strategy}&side=long", None
        if kind == "override":
            body = {"strategy_id": strategy, "side": "long", "active": True,
                    "weight": round(self._random.uniform(0.01, 0.5), 3)}  # fmt: skip
            return "PUT", f"/worlds/{WORLD}/activation", body
        if kind == "evaluate":
            metrics = {s: {"sharpe": round(self._random.uniform(0, 3), 3)} for s in STRATEGIES}
            return "POST", f"/worlds/{WORLD}/evaluate", {"run_id": run_id, "metrics": metrics}
        plan = {"activate": [strategy], "deactivate": []}
        return "POST", f"/worlds/{WORLD}/apply", {"run_id": run_id, "plan": plan}

    def _one(self) -> None:
        kind = self._random.choices(self._kinds, self._weights)[0]
        run_id = f"mix-{uuid.uuid4().hex[:12]}"
        method, path, body = self._request(kind, run_id)
        correlation_id = f"mix-{uuid.uuid4().hex[:16]}"
        started = time.monotonic()
        try:
            status = call(
                self.stack.web_port, method, path, token=self.token, body=body,
                correlation_id=correlation_id, timeout=30,
            )[0]  # fmt: skip
        except OSError:
            status = 0  # a dropped connection counts as a failed answer
        answer = Answer(kind, correlation_id, run_id, started, time.monotonic(), status)
        with self._lock:
            self.answers.append(answer)

    def client(self) -> None:
        while not self.stop.is_set():
            self._one()


def _ready(stack: PrivateStack) -> bool:
    try:
        return call(stack.web_port, "GET", "/readyz", timeout=5)[0] == 200
    except OSError:
        return False


def _wait(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def restart_redis(stack: PrivateStack) -> None:
    stack.redis.restart()


def restart_worker(stack: PrivateStack) -> None:
    stack.restart_worker()


def _fault(stack: PrivateStack, action: Any, grace: float, faults: Faults) -> float:
    """Run `action`, wait for /readyz to answer 200 again; the seconds until it did."""
    start = time.monotonic()
    action(stack)
    _wait(lambda: _ready(stack), timeout=120)
    recovered = time.monotonic()
    faults.windows.append((start, recovered + grace))
    return round(recovered - start, 2)


def drive(stack: PrivateStack, load: Load, args: argparse.Namespace) -> dict[str, Any]:
    faults = Faults()
    threads = [threading.Thread(target=load.client, daemon=True) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    time.sleep(args.seconds * 0.4)
    redis_recovery = _fault(stack, restart_redis, args.grace, faults)
    time.sleep(max(0.0, began + args.seconds * 0.6 - time.monotonic()))
    worker_recovery = _fault(stack, restart_worker, args.grace, faults)
    time.sleep(max(0.0, began + args.seconds - time.monotonic()))
    load.stop.set()
    for thread in threads:
        thread.join(timeout=60)
    return {
        "faults": faults,
        "seconds": round(time.monotonic() - began, 1),
        "redis_restart_recovery_seconds": redis_recovery,
        "worker_restart_recovery_seconds": worker_recovery,
    }


def _one_column(stack: PrivateStack, sql: str, params: tuple[Any, ...] = ()) -> set[Any]:
    return {row[0] for row in stack.postgres.query(sql, params)}


def _settle(stack: PrivateStack) -> bool:
    """Wait for every apply and evaluation to finish and the outbox to drain; whether all did.

    An evaluation whose task died with the killed worker is sent again by beat after 30 s
    (docs/operations.md, "Stalled evaluations"), so the wait for evaluations is the longer one.
    """

    def applies_done() -> bool:
        rows = stack.postgres.query(
            "SELECT count(*) FROM activation_applyrun "
            "WHERE phase NOT IN ('completed', 'rolled_back')"
        )
        return rows[0][0] == 0

    def evaluations_done() -> bool:
        rows = stack.postgres.query(
            "SELECT count(*) FROM policies_evaluationrun WHERE status = 'pending'"
        )
        return rows[0][0] == 0

    def drained() -> bool:
        rows = stack.postgres.query(
            "SELECT count(*) FROM worlds_worldevent WHERE relayed_at IS NULL"
        )
        return rows[0][0] == 0

    return (
        _wait(applies_done, timeout=180)
        and _wait(evaluations_done, timeout=180)
        and _wait(drained, timeout=120)
    )


def _stream_ids(stack: PrivateStack) -> set[str]:
    client = stack.redis_client()
    ids = set()
    for _entry_id, fields in client.xrange("worldservice.events"):
        ids.add(json.loads(fields[b"event"])["id"])
    return ids


def _lost(stack: PrivateStack, load: Load) -> dict[str, Any]:
    """Acknowledged writes without their audit row or their outbox event."""
    acked = [a for a in load.answers if a.kind in AUDITED and 200 <= a.status < 300]
    audited = _one_column(stack, "SELECT DISTINCT correlation_id FROM worlds_worldauditlog")
    evented = _one_column(stack, "SELECT DISTINCT correlation_id FROM worlds_worldevent")
    # An apply's stages may finish under another correlation id (the reaper's, after a worker
    # restart), so its events are found by run id; one rolled back before any stage wrote
    # nothing to announce.
    evented |= _one_column(stack, "SELECT DISTINCT data->>'run_id' FROM worlds_worldevent")
    evented |= _one_column(
        stack, "SELECT run_id FROM activation_applyrun WHERE stages = '[]'::jsonb"
    )
    no_audit = [a for a in acked if a.correlation_id not in audited]
    no_event = [
        a for a in acked if a.kind in EVENTED and not {a.correlation_id, a.run_id} & evented
    ]
    return {
        "acknowledged_writes": len(acked),
        "lost_audit_rows": len(no_audit),
        "lost_events": len(no_event),
        "lost_examples": [(a.kind, a.status, a.correlation_id) for a in (no_audit + no_event)[:10]],
    }


def _server_errors(load: Load, faults: Faults) -> dict[str, int]:
    errors = [a for a in load.answers if a.status >= 500 or a.status == 0]
    inside = sum(faults.covers(a) for a in errors)
    return {"server_errors_outside_faults": len(errors) - inside,
            "server_errors_inside_faults": inside}  # fmt: skip


def check(stack: PrivateStack, load: Load, faults: Faults) -> dict[str, Any]:
    recorded = _one_column(stack, "SELECT idempotency_key FROM worlds_worldevent")
    chain = stack.run(
        sys.executable, "manage.py", "shell", "-c",
        "from worlds.audit import verify_world_chain; print(verify_world_chain(None).ok)",
    ).strip().splitlines()[-1]  # fmt: skip
    return {
        **_lost(stack, load),
        "events_missing_from_stream": len(recorded - _stream_ids(stack)),
        **_server_errors(load, faults),
        "audit_chain_ok": chain == "True",
        "entries_frozen_or_draining": _frozen_entries(stack, load.token),
    }


def _frozen_entries(stack: PrivateStack, token: str) -> int:
    status, body = call(stack.web_port, "GET", f"/worlds/{WORLD}/activation", token=token)
    if status != 200:
        return -1
    return sum(bool(e.get("freeze") or e.get("drain")) for e in body.get("entries", []))


def summary(load: Load, driven: dict[str, Any]) -> dict[str, Any]:
    counts = Counter(a.kind for a in load.answers)
    statuses = Counter(f"{a.kind}:{a.status}" for a in load.answers)
    seconds = driven["seconds"]
    return {
        "seconds": seconds,
        "requests": len(load.answers),
        "requests_per_second": round(len(load.answers) / seconds, 1),
        "by_kind": dict(sorted(counts.items())),
        "by_status": dict(sorted(statuses.items())),
        "redis_restart_recovery_seconds": driven["redis_restart_recovery_seconds"],
        "worker_restart_recovery_seconds": driven["worker_restart_recovery_seconds"],
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--grace", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    log_dir = Path(tempfile.mkdtemp(prefix="ws-load-mix-"))
    # One user sends every write: its throttle is raised so the mix's writes reach the service
    # (the throttles have their own tests); the failed-authentication throttle stays as shipped.
    with private_stack(
        log_dir, None, server="bin/web", WORLDSERVICE_THROTTLE_WRITES="1000000/min"
    ) as stack:
        stack.start_relay()
        out = stack.run(
            sys.executable, "bench/setup_bench_world.py", "--world", WORLD,
            "--strategies", str(len(STRATEGIES)), "--user", "load_mix", "--role", "operator",
        )  # fmt: skip
        load = Load(stack, out.strip().splitlines()[-1], args.seed)
        driven = drive(stack, load, args)
        settled = _settle(stack)
        report = {
            **summary(load, driven),
            "settled": settled,
            **check(stack, load, driven["faults"]),
        }
    report["logs"] = str(log_dir)
    print(json.dumps(report, indent=2))  # noqa: T201 - the bench's output
    failed = (
        report["lost_audit_rows"] or report["lost_events"] or report["events_missing_from_stream"]
        or report["server_errors_outside_faults"] or not report["audit_chain_ok"]
        or report["entries_frozen_or_draining"] or not settled
    )  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
