"""Keeping pytest-xdist workers apart: each worker gets Redis databases of its own.

pytest-django already gives each worker its own PostgreSQL test database (`test_<name>_gw0`,
`test_<name>_gw1`, ...). Redis has no such copies, and the tests clear the cache database before
every test, so two workers on one database would wipe each other's keys, take each other's Celery
tasks and read each other's event streams. Under xdist, worker N therefore uses three databases
of the Redis server named by `REDIS_URL`, starting at that URL's database:

    first + 3N      the cache, the activation store and Celery results (`REDIS_URL`)
    first + 3N + 1  the Celery broker (`CELERY_BROKER_URL`, same server as given)
    first + 3N + 2  the relay tests' event streams (`TEST_EVENTS_REDIS_URL`, same server as given)

A Redis server has 16 databases (0-15), so with `REDIS_URL` on database 1 at most five workers
fit; `-n auto` is capped to that (tests/conftest.py). A run without xdist keeps the URLs as given.

The URLs are rewritten in the environment before the project's settings read it
(tests/settings.py), so the processes the tests start (Celery workers, gunicorn, `manage.py`)
inherit the worker's databases with the rest of the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # a Redis server's default `databases`
DATABASES_PER_WORKER = 3
# Set once the URLs are rewritten: a process started by a test inherits the rewritten ones.
ASSIGNED_MARK = "WORLDSERVICE_TEST_REDIS_WORKER"


def worker_index(env: Mapping[str, str]) -> int | None:
    """The xdist worker's number (`gw3` → 3), or None outside xdist."""
    worker = env.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else None


def redis_database(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path else 0


def with_database(url: str, database: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def max_workers(env: Mapping[str, str]) -> int | None:
    """How many workers fit on the Redis server of `REDIS_URL` (None: no Redis, no bound)."""
    url = env.get("REDIS_URL")
    if not url:
        return None
    return (REDIS_DATABASES - redis_database(url)) // DATABASES_PER_WORKER


def assign_worker_databases(env: MutableMapping[str, str]) -> None:
    """Point `REDIS_URL`, `CELERY_BROKER_URL` and `TEST_EVENTS_REDIS_URL` at this worker's."""
    index = worker_index(env)
    url = env.get("REDIS_URL")
    if index is None or not url or env.get(ASSIGNED_MARK):
        return
    first = redis_database(url) + DATABASES_PER_WORKER * index
    if first + DATABASES_PER_WORKER > REDIS_DATABASES:
        raise RuntimeError(
            f"xdist worker gw{index} needs Redis databases {first}-{first + 2}, beyond the "
            f"{REDIS_DATABASES} of one server: run at most {max_workers(env)} workers "
            "(tests/parallel.py)"
        )
    env["REDIS_URL"] = with_database(url, first)
    env["CELERY_BROKER_URL"] = with_database(env.get("CELERY_BROKER_URL") or url, first + 1)
    env["TEST_EVENTS_REDIS_URL"] = with_database(env.get("TEST_EVENTS_REDIS_URL") or url, first + 2)
    env[ASSIGNED_MARK] = f"gw{index}"


def assign_this_worker() -> None:
    assign_worker_databases(os.environ)
