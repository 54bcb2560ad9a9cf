"""Fixtures shared by every suite: users, worlds, authenticated clients, isolation."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory, make_world, token_for
from tests.parallel import max_workers
from worlds.models import World
from worlds.roles import Role
from worlds.services.members import grant_role

EMBEDDED_RUN = not os.environ.get("DATABASE_URL")


@pytest.hookimpl(wrapper=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> Generator[None, int, int]:
    """`-n auto` runs no more workers than there are Redis databases for (tests/parallel.py)."""
    count = yield
    bound = max_workers(os.environ)
    return count if bound is None else max(1, min(count, bound))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/embedded/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.embedded)


@pytest.fixture(autouse=True)
def _main_suite_runs_on_postgresql(request: pytest.FixtureRequest) -> None:
    if EMBEDDED_RUN and request.node.get_closest_marker("embedded") is None:
        pytest.fail(
            "the main suite runs on PostgreSQL and Redis: set DATABASE_URL and REDIS_URL "
            "(bin/test does)"
        )


@pytest.fixture(autouse=True)
def _isolated_cache() -> Iterator[None]:
    from worlds.hot_reads import tracked_copies
    from worlds.roles import LOCAL_ROLES
    from worlds.services.tokens import LOCAL_TOKENS, RECENT_MISSES
    from worldservice.redis_clients import GUARD

    GUARD.reset()  # a timeout in an earlier test (a busy machine) must not fail this one fast
    cache.clear()
    LOCAL_ROLES.clear()
    LOCAL_TOKENS.clear()
    RECENT_MISSES.clear()
    copies = tracked_copies()
    if copies is not None:
        copies.clear()
    yield


@pytest.fixture(autouse=True, scope="session")
def _static_files_from_the_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Pages find their static files in the apps and `static/`, without `collectstatic`.

    The production storage (hashed names from the manifest `collectstatic` writes) needs a
    collect that takes seconds; `tests/site/test_static_files.py` runs it once and checks the
    pages and WhiteNoise against it.
    """
    from django.conf import settings
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # An empty STATIC_ROOT: WhiteNoise serves nothing from it, and does not warn it is missing.
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path_factory.mktemp("static")):
        yield


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            is_local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            is_local = host == "localhost"
        if not is_local:
            raise RuntimeError(f"tests may not reach {host}: only loopback services are allowed")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_outbound_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def user_factory(db: None) -> type[UserFactory]:
    return UserFactory


@pytest.fixture
def owner(db: None) -> Any:
    return UserFactory(username="olivia", permissions=["worlds.add_world"])


@pytest.fixture
def world(owner: Any) -> World:
    return make_world(owner=owner, world_id="alpha", name="Alpha")


@pytest.fixture
def client_for() -> Callable[[Any], APIClient]:
    """An API client that sends a fresh bearer token of `user` (anonymous when None)."""

    def build(user: Any) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
        return client

    return build


@pytest.fixture
def member(world: World) -> Callable[[str], Any]:
    """A user holding `role` ('reader', 'operator', 'owner') on `world`, or none ('none')."""

    def build(role: str) -> Any:
        user = UserFactory()
        if role != "none":
            grant_role(world=world, user=user, role=Role.from_label(role))
        return user

    return build


@pytest.fixture(autouse=True)
def _tasks_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in the test's process unless the test asks for a real worker.

    Eager tasks are the same code the embedded default runs; tests whose behaviour depends on
    a separate worker process (waiting, crashes, single-flight across processes) use
    `real_worker` instead.
    """
    from worldservice.celery import app

    eager = request.node.get_closest_marker("real_worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="module")
def _worker_process(django_db_setup: None, django_db_blocker: Any) -> Iterator[Any]:
    """A real Celery worker for one test module, on the test database and the test broker.

    Module-scoped so it is gone before other modules (fault tests) start workers of their own.
    """
    from tests.processes import start_celery_worker, stop_process

    process = start_celery_worker(loglevel="WARNING")
    yield process
    stop_process(process)


@pytest.fixture
def real_worker(request: pytest.FixtureRequest, _worker_process: Any) -> Any:
    """A live Celery worker; use with `@pytest.mark.real_worker` and transactional tests."""
    if request.node.get_closest_marker("real_worker") is None:
        pytest.fail("tests using the real_worker fixture need @pytest.mark.real_worker")
    return _worker_process
