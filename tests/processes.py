"""Environment for real subprocesses (workers, commands) that must use the pytest database."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import quote


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

    Outside pytest (bench/load_mix.py reuses the fault-test launchers) Django is not set up and
    there is no test database: the caller's own environment and overrides are used as they are.
    """
    from django.conf import settings

    env = dict(os.environ)
    if settings.configured:
        env["DATABASE_URL"] = subprocess_database_url()
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("DJANGO_SECRET_KEY", "fault-tests-only")
    env.update(overrides or {})
    return env
