"""Run schemathesis against a live WorldService (see bin/schemathesis and docs/testing.md).

The server is the Procfile's web server (`bin/web` where there is one, else gunicorn) with
two workers, and a Celery worker for the 202 routes. Both run on a database of their own
(`<test database>_schemathesis`, made anew each run) and on Redis databases 12 (cache) and 13
(broker) of the test Redis, emptied before and after, so a run leaves nothing behind for the
main suite. `seed_demo` builds the world and the admin token; every operation's `world_id` is
pinned to that world so the handlers behind the role check are exercised, except
`DELETE /worlds/{world_id}`, which gets a world of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

REPO = Path(__file__).resolve().parent.parent
CACHE_DB, BROKER_DB = 12, 13
EXAMPLES_PER_OPERATION = 25
RUN_BUDGET_SECONDS = 300
# Web workers, as the Procfile's default. Schemathesis itself runs one worker: its client is
# what keeps a core busy (four workers ran 47 s against one's 55 s), and its worker threads race
# in Hypothesis's lambda descriptions (CPython 3.11's `ast.parse` is not thread-safe), which
# ended a run with an internal error.
WEB_WORKERS = 2
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
CONFIG = """\
request-timeout = 15.0

# Every run starts from nothing: no cases remembered from an earlier run, no files left behind.
[cache]
enabled = false

[generation]
max-examples = {examples}
allow-x00 = true
database = "none"

[phases.coverage]
# 405s are not among the checks: sending every path every other method would only add requests.
unexpected-methods = []

[phases.stateful]
# The links it infers mostly lead to 404s; the other phases cover every operation.
enabled = false

[parameters]
"path.world_id" = "demo"

[[operations]]
include-path = "/worlds/{{world_id}}"
include-method = "DELETE"
parameters = {{ "path.world_id" = "scratch" }}
"""
# One process for both (each `manage.py` start costs seconds on a loaded host).
SEED = (
    "from django.contrib.auth.models import User\n"
    "from django.core.management import call_command\n"
    "from worlds.services.worlds import create_world\n"
    "call_command('seed_demo', base_url='http://127.0.0.1:{port}')\n"
    "create_world(actor=User.objects.get(username='admin'), world_id='scratch', name='Scratch')\n"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


@contextlib.contextmanager
def own_database(base_url: str) -> Iterator[str]:
    """A fresh `<name>_schemathesis` database beside the test database, dropped afterwards."""
    name = urlsplit(base_url).path.lstrip("/") + "_schemathesis"
    admin = with_path(base_url, "/postgres")

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    drop()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_path(base_url, "/" + name)
    finally:
        drop()


@contextlib.contextmanager
def own_redis(base_url: str) -> Iterator[tuple[str, str]]:
    """The cache and broker databases of the run, emptied before and after."""
    urls = with_path(base_url, f"/{CACHE_DB}"), with_path(base_url, f"/{BROKER_DB}")
    for url in urls:
        redis.Redis.from_url(url).flushdb()
    try:
        yield urls
    finally:
        for url in urls:
            redis.Redis.from_url(url).flushdb()


def manage(env: dict[str, str], *args: str) -> None:
    began = time.monotonic()
    command = [sys.executable, "manage.py", *args]
    subprocess.run(command, cwd=REPO, env=env, check=True)  # noqa: S603 - our own command
    print(f"manage.py {args[0]}: {time.monotonic() - began:.0f} s")  # noqa: T201


@contextlib.contextmanager
def running(command: list[str], env: dict[str, str], log: Path) -> Iterator[None]:
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own commands
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the server did not answer {url} within {seconds} s")
        time.sleep(0.5)


def schemathesis(base: str, token: str, config: Path, extra: list[str]) -> int:
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        str(REPO / "docs" / "openapi.yaml"),
        "--url",
        base,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--workers",
        "1",
        "--continue-on-failure",
        "--no-shrink",
        "--seed",
        os.environ.get("SCHEMATHESIS_SEED", "20261203"),
        *extra,
    ]
    try:
        return subprocess.run(command, cwd=REPO, timeout=RUN_BUDGET_SECONDS).returncode  # noqa: S603
    except subprocess.TimeoutExpired:
        print(f"schemathesis ran over its {RUN_BUDGET_SECONDS} s budget", file=sys.stderr)  # noqa: T201
        return 1


def web_server(bin_dir: Path, port: int, env: dict[str, str]) -> list[str]:
    """The Procfile's web server: `bin/web` where the project has one, else gunicorn."""
    if (REPO / "bin" / "web").exists():
        env.update({"PORT": str(port), "WEB_HOST": "127.0.0.1", "WEB_WORKERS": str(WEB_WORKERS)})
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return [str(REPO / "bin" / "web")]
    command = [str(bin_dir / "gunicorn"), "worldservice.wsgi:application"]
    command += ["--workers", str(WEB_WORKERS), "--timeout", "30"]
    return command + ["--bind", f"127.0.0.1:{port}"]


def main(extra: list[str]) -> int:
    began = time.monotonic()
    base_db = os.environ.get("TEST_DATABASE_URL") or os.environ["DATABASE_URL"]
    base_redis = os.environ.get("TEST_REDIS_URL") or os.environ["REDIS_URL"]
    with (
        tempfile.TemporaryDirectory(prefix="schemathesis-") as scratch,
        own_database(base_db) as database_url,
        own_redis(base_redis) as (cache_url, broker_url),
    ):
        var = Path(scratch)
        (var / "static").mkdir()  # the API serves no static files; WhiteNoise wants the folder
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": cache_url,
            "CELERY_BROKER_URL": broker_url,
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "schemathesis-only"),
            "WORLDSERVICE_VAR_DIR": str(var),
            # Fuzzing is one client sending thousands of requests: the throttles have their own
            # tests (tests/worlds), here they would only turn answers into 429.
            "WORLDSERVICE_THROTTLE_AUTH_FAILURES": "100000/min",
            "WORLDSERVICE_THROTTLE_WRITES": "100000/min",
        }
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "shell", "-c", SEED.format(port=port))
        token = json.loads((var / "demo-credentials.json").read_text())["token"]
        config = var / "schemathesis.toml"
        config.write_text(CONFIG.format(examples=EXAMPLES_PER_OPERATION))
        bin_dir = Path(sys.executable).parent
        web = web_server(bin_dir, port, env)
        worker = [str(bin_dir / "celery"), "-A", "worldservice", "worker", "--pool", "solo"]
        worker += ["--loglevel", "WARNING"]
        with running(web, env, var / "web.log"), running(worker, env, var / "celery.log"):
            base = f"http://127.0.0.1:{port}"
            try:
                wait_for(base + "/healthz")
                print(f"server up after {time.monotonic() - began:.0f} s")  # noqa: T201
            except SystemExit:
                print((var / "web.log").read_text()[-6000:], file=sys.stderr)  # noqa: T201
                raise
            started = time.monotonic()
            status = schemathesis(base, token, config, extra)
            ran, setup = time.monotonic() - started, started - began
            print(f"schemathesis took {ran:.0f} s (after {setup:.0f} s of setup)")  # noqa: T201
        if status != 0:
            print((var / "web.log").read_text()[-6000:], file=sys.stderr)  # noqa: T201
        return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
