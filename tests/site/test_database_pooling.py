"""The PostgreSQL connection options of docs/deployment.md ("PostgreSQL connections"), in a
fresh process on the test database: psycopg's pool, and the PgBouncer transaction-mode switch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.faults.conftest import REPO_ROOT
from tests.processes import subprocess_env

# The test database must exist (with its tables) for the probe process; nothing is written.
pytestmark = pytest.mark.django_db

PROBE = """
import django, json
django.setup()
from django.db import connection
from django.db.models import Count
from worlds.models import World
World.objects.aggregate(n=Count("id"))
settings = connection.settings_dict
pool = connection.pool
print(json.dumps({
    "pool_max": pool.max_size if pool else None,
    "conn_max_age": settings["CONN_MAX_AGE"],
    "server_side_cursors_off": settings.get("DISABLE_SERVER_SIDE_CURSORS", False),
    "statement_timeout": connection.cursor().execute("SHOW statement_timeout").fetchone()[0],
}))
"""


def _probe(**env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO_ROOT, env=subprocess_env(env),
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_pool_size__queries_go_through_psycopg_pool_with_the_statement_timeout():
    found = _probe(WORLDSERVICE_DB_POOL_SIZE="3")

    assert found["pool_max"] == 3
    assert found["conn_max_age"] == 0  # the pool replaces persistent connections
    assert found["statement_timeout"] == "10s"


def test_default__persistent_connections_no_pool():
    found = _probe()

    assert found["pool_max"] is None
    assert found["conn_max_age"] == 60
    assert found["server_side_cursors_off"] is False


def test_behind_pgbouncer__server_side_cursors_off():
    assert _probe(WORLDSERVICE_DB_BEHIND_PGBOUNCER="true")["server_side_cursors_off"] is True
