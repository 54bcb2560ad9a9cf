"""A private WorldService stack for dependency faults: its own Redis and PostgreSQL.

Tests that pause, kill or restart a dependency must never touch the machine's shared ones. This
starts `redis-server` on a free port and a PostgreSQL cluster (`initdb` + `pg_ctl`, in a
temporary directory, on a free port; as the `postgres` OS user when running as root, since
`initdb` refuses root), migrates it, and runs a real gunicorn and a real Celery worker (with its
embedded beat: relay, expiry, reaper) on them. `http` sends requests to that gunicorn.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import redis

from tests.faults.conftest import REPO_ROOT, ProcessLauncher, RealProcess, wait_until
from tests.processes import free_port


class PrivateRedis:
    """`redis-server` on a free port, without persistence (a restart loses everything)."""

    def __init__(self, launcher: ProcessLauncher) -> None:
        self.launcher = launcher
        self.port = free_port()
        self.process: RealProcess | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        argv = [str(shutil.which("redis-server")), "--port", str(self.port)]
        argv += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = self.launcher.start(argv, name="redis-server")
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, timeout=15, message="the private Redis", watch=[self.process])

    def pause(self) -> None:
        assert self.process is not None
        self.process.send(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send(signal.SIGCONT)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()

    def restart(self) -> None:
        """Killed and started again on the same port, empty (it keeps nothing on disk)."""
        self.kill()
        assert self.process is not None
        self.process.wait(timeout=10)
        self.start()


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"no PostgreSQL {name} on this machine")
    return on_path


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port (trust authentication, no fsync)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ws-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")

    def url(self, name: str = "worldservice") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *argv: str, timeout: float = 60) -> None:
        command = list(argv)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(
            command, check=True, timeout=timeout, capture_output=True, cwd=self.root, text=True
        )

    def init(self) -> None:
        self._run(
            _postgres_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute("CREATE DATABASE worldservice")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(
            _postgres_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._run(_postgres_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url(), connect_timeout=5) as connection:
            return list(connection.execute(sql, params).fetchall())  # type: ignore[arg-type]


@dataclass
class Answer:
    """One request of the load: what was sent, what came back, and when."""

    kind: str
    method: str
    path: str
    correlation_id: str
    started: float
    ended: float
    status: int
    body: Any
    phase: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def call(
    port: int,
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Any = None,
    correlation_id: str = "",
    timeout: float = 60,
) -> tuple[int, Any]:
    """One request to the private gunicorn: (status, the JSON body parsed, or the text)."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if correlation_id:
        headers["X-Correlation-ID"] = correlation_id
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        parsed: Any = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return response.status, parsed


class PrivateStack:
    """Private Redis + PostgreSQL, a migrated database, gunicorn and a Celery worker with beat."""

    def __init__(
        self, launcher: ProcessLauncher, env: Mapping[str, str], *, server: str = "gunicorn"
    ) -> None:
        self.launcher = launcher
        # "gunicorn" (2 sync workers: what the fault tests' margins assume) or "bin/web", the
        # production server of the Procfile (docs/deployment.md).
        self.server = server
        self.redis = PrivateRedis(launcher)
        self.postgres = PrivatePostgres()
        self.extra_env = dict(env)
        self.web_port = free_port()
        self.web: RealProcess | None = None
        self.worker: RealProcess | None = None
        self.relay: RealProcess | None = None

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.postgres.url(),
            "REDIS_URL": self.redis.url(0),
            "CELERY_BROKER_URL": self.redis.url(1),
            "DJANGO_SECRET_KEY": "private-stack-faults-only",
            **self.extra_env,
        }

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env, PYTHONUNBUFFERED="1")
        return env

    def run(self, *argv: str, timeout: float = 120) -> str:
        """Run a command on the stack's environment to its end; its stdout."""
        result = subprocess.run(
            list(argv), cwd=REPO_ROOT, env=self._env(), capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"{argv} failed: {result.stderr[-4000:]}")
        return result.stdout

    def start(self, schema_from: str | None) -> None:
        """Start everything; the database is a copy of `schema_from` (the migrated test
        database: much faster than migrating again), or migrated here when it is None."""
        self.redis.start()
        self.postgres.init()
        if schema_from is None:
            self.run(sys.executable, "manage.py", "migrate", "--noinput", timeout=300)
        else:
            self._copy_schema(schema_from)
        self.web = self.start_web(self.web_port)
        self.worker = self.start_worker(f"faults-{self.web_port}", beat=True)

    def _copy_schema(self, schema_from: str) -> None:
        dump = subprocess.run(
            [_postgres_bin("pg_dump"), "--no-owner", "--no-privileges", f"--dbname={schema_from}"],
            capture_output=True, check=True, timeout=120,
        )  # fmt: skip
        psql = [_postgres_bin("psql"), "-q", "-v", "ON_ERROR_STOP=1"]
        subprocess.run(
            [*psql, f"--dbname={self.postgres.url()}"],
            input=dump.stdout, capture_output=True, check=True, timeout=120,
        )  # fmt: skip

    def start_web(self, port: int) -> RealProcess:
        """One web instance (2 workers) on `port`, answering /healthz when returned."""
        if self.server == "bin/web":
            argv = [str(REPO_ROOT / "bin" / "web")]
            env = {**self.env, "PORT": str(port), "WEB_HOST": "127.0.0.1", "WEB_WORKERS": "2"}
        else:
            argv = [
                sys.executable, "-m", "gunicorn", "worldservice.wsgi:application",
                "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
            ]  # fmt: skip
            env = self.env
        web = self.launcher.start(argv, env=env, name=f"web-{port}")

        def web_answers() -> bool:
            try:
                return call(port, "GET", "/healthz", timeout=2)[0] == 200
            except OSError:
                return False

        wait_until(web_answers, timeout=60, message="the private gunicorn", watch=[web])
        return web

    def start_worker(self, hostname: str, *, beat: bool) -> RealProcess:
        """One Celery worker (solo pool); `beat` also runs the periodic tasks in it."""
        argv = [
            sys.executable, "-m", "celery", "-A", "worldservice", "worker",
            "--pool", "solo", "--without-gossip", "--without-mingle", "--loglevel", "INFO",
            "--hostname", f"{hostname}@localhost",
        ]  # fmt: skip
        if beat:
            argv += ["--beat", "--schedule", str(self.postgres.root / f"beat-{hostname}")]
        worker = self.launcher.start(argv, env=self.env, name=f"celery-{hostname}")
        wait_until(
            lambda: "ready." in worker.output(),
            timeout=60,
            message="the private Celery worker",
            watch=[worker],
        )
        return worker

    def restart_worker(self) -> None:
        """Kill the worker (beat with it) and start a new one under another name."""
        assert self.worker is not None
        self.worker.kill()
        self.worker.wait(timeout=30)
        self.worker = self.start_worker(f"restarted-{free_port()}", beat=True)

    def start_relay(self) -> RealProcess:
        """The outbox relay process (`manage.py relay_events`), as the Procfile runs it."""
        relay = self.launcher.start(
            [sys.executable, "manage.py", "relay_events"], env=self.env, name="relay"
        )
        self.relay = relay
        return relay

    def redis_client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.redis.url(db), socket_timeout=5, socket_connect_timeout=5)

    def close(self) -> None:
        self.launcher.close_all()
        self.postgres.destroy()

    def processes(self) -> list[RealProcess]:
        found = (self.web, self.worker, self.relay)
        return [process for process in found if process is not None]


@contextlib.contextmanager
def private_stack(
    log_dir: Path, schema_from: str | None, *, server: str = "gunicorn", **env: str
) -> Iterator[PrivateStack]:
    launcher = ProcessLauncher(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = PrivateStack(launcher, env, server=server)
    try:
        stack.start(schema_from)
        yield stack
    finally:
        stack.close()


def wait_for(predicate: Any, *, timeout: float, message: str, stack: PrivateStack) -> Any:
    """`wait_until` that shows the stack's web and worker output when it gives up."""
    return wait_until(predicate, timeout=timeout, message=message, watch=stack.processes())


def elapsed_since(start: float) -> float:
    return time.monotonic() - start
