"""Real processes for fault tests: `manage.py` commands and Celery workers on the test database.

A fault test kills, stops and restarts real processes, so it needs committed rows that another
process can see: mark it `@pytest.mark.django_db(transaction=True)` (the `processes` fixture
requires the transactional database anyway) and `@pytest.mark.faults`.

    def test_x__relay_stopped__events_wait(processes):
        relay = processes.manage("relay_events", env={"WORLDSERVICE_EVENT_STREAM": "s"})
        wait_until(lambda: stream_length() == 1, timeout=30, message="relayed", watch=[relay])
        assert relay.stop() == 0          # SIGTERM, then SIGKILL after the timeout
        worker = processes.celery_worker("--pool", "prefork", "--concurrency", "1")
        worker.kill(group=True)           # SIGKILL, pool children included

Each process runs in its own session (process group), writes stdout and stderr to a log file
under the test's tmp_path (`process.output()`, shown when `wait_until` gives up), and is stopped
at teardown if the test left it running. Tests talking to a Celery worker started here should
also carry `@pytest.mark.real_worker` so tasks are sent to the broker instead of run eagerly.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.processes import START_TIMEOUT_SECONDS, subprocess_env

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
STOP_TIMEOUT_SECONDS = 15.0


class RealProcess:
    """A started child process, its log file, and ways to end it."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.node: str | None = None  # a Celery worker's node name
        self.argv = list(argv)
        self.log_path = log
        self._log = log.open("wb")
        self.popen = subprocess.Popen(
            self.argv,
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def send(self, signum: int, *, group: bool = False) -> None:
        """Send `signum` to the process, or to its whole process group (its children too)."""
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(self.pid, signum)
            else:
                self.popen.send_signal(signum)

    def wait(self, timeout: float) -> int:
        """Wait for the exit; the exit code (negative: killed by that signal)."""
        return self.popen.wait(timeout=timeout)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """SIGTERM and wait; SIGKILL the group when it does not end within `timeout`."""
        self.send(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            return self.kill(group=True)

    def kill(self, *, group: bool = False) -> int:
        """SIGKILL (a crash); with `group`, its children (e.g. a Celery pool) die too."""
        self.send(signal.SIGKILL, group=group)
        code = self.wait(STOP_TIMEOUT_SECONDS)
        if group:
            # Children that outlived their parent are still in the group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        return code

    def close(self) -> None:
        if self.alive():
            self.stop()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # leftovers of a process that already exited
        self._log.close()

    def __repr__(self) -> str:
        return f"<RealProcess {self.name} pid={self.pid} returncode={self.returncode}>"


def wait_until(
    predicate: Callable[[], T],
    *,
    timeout: float,
    message: str | Callable[[], str] = "the condition",
    interval: float = 0.1,
    watch: Sequence[RealProcess] = (),
) -> T:
    """Poll `predicate` until it returns something truthy, and return that.

    Fails the test after `timeout` seconds, or as soon as a process in `watch` exits, with
    `message` and the output of the watched processes.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        dead = [process for process in watch if not process.alive()]
        expired = time.monotonic() >= deadline
        if dead or expired:
            text = message() if callable(message) else message
            why = f"{dead[0]!r} exited" if dead else f"{timeout:g} s passed"
            logs = "".join(
                f"\n--- {process.name} (pid {process.pid}) output:\n{process.output()[-4000:]}"
                for process in watch
            )
            pytest.fail(f"waiting for {text}: {why}{logs}")
        time.sleep(interval)


class ProcessLauncher:
    """Starts real processes for one test and ends whatever is left at teardown."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[RealProcess] = []

    def start(
        self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, name: str | None = None
    ) -> RealProcess:
        """Run `argv` from the repository root with `subprocess_env(env)`."""
        name = name or Path(argv[0]).name
        log = self.log_dir / f"{len(self.started):02d}-{name.replace('/', '_')}.log"
        process = RealProcess(name, argv, subprocess_env(env), log)
        self.started.append(process)
        return process

    def manage(
        self, *args: str, env: Mapping[str, str] | None = None, name: str | None = None
    ) -> RealProcess:
        """`python manage.py <args>` on the test database."""
        return self.start([sys.executable, "manage.py", *args], env=env, name=name or args[0])

    def celery_worker(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = START_TIMEOUT_SECONDS,
    ) -> RealProcess:
        """A Celery worker on the test database and broker; returns once it answers a ping.

        `args` go after `worker` (e.g. `--pool prefork --concurrency 2 --queues q`); the default
        pool is `solo`. The worker gets a unique node name, `process.node`.
        """
        node = f"faults-{uuid.uuid4().hex[:8]}@localhost"
        argv = [sys.executable, "-m", "celery", "-A", "worldservice", "worker"]
        argv += ["--hostname", node, "--without-gossip", "--without-mingle"]
        argv += ["--loglevel", "INFO"]
        if "--pool" not in args and not any(arg.startswith("--pool=") for arg in args):
            argv += ["--pool", "solo"]
        process = self.start([*argv, *args], env=env, name="celery-worker")
        process.node = node

        from worldservice.celery import app

        def answers() -> bool:
            return bool(app.control.ping(destination=[node], timeout=0.5))

        wait_until(
            answers, timeout=ready_timeout, message=f"worker {node} to answer", watch=[process]
        )
        return process

    def close_all(self) -> None:
        for process in reversed(self.started):
            process.close()


@pytest.fixture
def processes(transactional_db: Any, tmp_path: Path) -> Iterator[ProcessLauncher]:
    """Start real processes on the test database; all are stopped before the database flush."""
    launcher = ProcessLauncher(tmp_path / "process-logs")
    launcher.log_dir.mkdir(parents=True, exist_ok=True)
    yield launcher
    launcher.close_all()
