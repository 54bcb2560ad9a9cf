"""Fixtures shared by every suite: users, worlds, authenticated clients, isolation."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory, make_world, token_for
from worlds.models import World
from worlds.roles import Role
from worlds.services.members import grant_role

EMBEDDED_RUN = not os.environ.get("DATABASE_URL")


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
    cache.clear()
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
