"""Fixtures of the activation suite: both store backends, an operator, a reader, Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from activation.redis_client import get_redis
from activation.store.base import ActivationStore
from activation.store.database import DatabaseActivationStore
from activation.store.redis import RedisActivationStore

BACKENDS = ("redis", "database")


def build_store(backend: str) -> ActivationStore:
    return RedisActivationStore() if backend == "redis" else DatabaseActivationStore()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Any) -> str:
    """Run the test on each backend; `get_store()` follows (the database one when no Redis)."""
    name: str = request.param
    if name == "database":
        settings.REDIS_URL = ""
    return name


@pytest.fixture
def redis_client() -> Any:
    return get_redis()


@pytest.fixture
def operator(member: Callable[[str], Any]) -> Any:
    return member("operator")


@pytest.fixture
def reader(member: Callable[[str], Any]) -> Any:
    return member("reader")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, db: None) -> ActivationStore:
    """A store of each backend, ready for the world ids the contract tests use."""
    built = build_store(request.param)
    for world_id in ("w1", "w2"):
        built.initialize(world_id)
    return built
