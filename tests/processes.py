"""Environment for real subprocesses (workers, commands) that must use the pytest database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import quote

# How long a server or worker started by a test may take to answer. Starting Django costs a few
# seconds on a quiet machine and tens of seconds on a loaded CI host running several xdist workers.
START_TIMEOUT_SECONDS = 90.0


def subprocess_database_url() -> str:
    """DATABASE_URL of the database this pytest process uses (the `test_...` copy)."""
    from django.db import connection

    settings_dict = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("fault tests share the test database, which must be PostgreSQL")
    auth = quote(settings_dict.get("USER") or "", safe="")
    if settings_dict.get("PASSWORD"):
        auth += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def subprocess_env(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment, on the test database, unbuffered, plus `overrides`.

    The child runs the project's settings, not `tests.settings`: the environment already names
    this xdist worker's Redis databases (tests/parallel.py). Outside pytest (bench/load_mix.py
    reuses the fault-test launchers) Django is not set up and there is no test database: the
    caller's own environment and overrides are used as they are.
    """
    from django.conf import settings

    env = dict(os.environ)
    if settings.configured:
        env["DATABASE_URL"] = subprocess_database_url()
    env["DJANGO_SETTINGS_MODULE"] = "worldservice.settings"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("DJANGO_SECRET_KEY", "fault-tests-only")
    env.update(overrides or {})
    return env


def free_port() -> int:
    """A loopback port nothing listens on now: the kernel hands each process a different one, so
    parallel xdist workers do not collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not ended within `timeout`; always reaped, and its pipes
    closed (an unreaped child or an open pipe is a ResourceWarning, an error under -W error)."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for pipe in (process.stdin, process.stdout, process.stderr):
        if pipe is not None:
            pipe.close()


def start_celery_worker(
    *,
    loglevel: str,
    env: Mapping[str, str] | None = None,
    stdout: int | IO[Any] = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """A real Celery worker (solo pool) on the test database and this xdist worker's broker,
    answering `ping` when returned. Its stderr goes to `stdout` when that is a file, else it
    is kept to explain a failed start. Stop it with `stop_process`."""
    import time

    from worldservice.celery import app

    argv = [
        sys.executable, "-m", "celery", "-A", "worldservice", "worker", "--pool", "solo",
        "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", loglevel,
    ]  # fmt: skip
    to_file = stdout is not subprocess.DEVNULL
    process = subprocess.Popen(  # noqa: S603 - our own command line
        argv,
        env=subprocess_env(env),
        stdout=stdout,
        stderr=subprocess.STDOUT if to_file else subprocess.PIPE,
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not app.control.ping(timeout=0.5):
        if process.poll() is not None or time.monotonic() > deadline:
            output = "" if to_file else process.stderr.read().decode()  # type: ignore[union-attr]
            stop_process(process)
            raise RuntimeError(f"the Celery worker did not start: {output}")
    return process
