"""Dependencies failing: the caches fail open, and what needs Redis answers 503, never 500."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

CLOSED = "redis://127.0.0.1:1/0"
REDIS_DOWN_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED}
}


def test_redis_cache_down__authenticated_reads_still_answer(world, owner, client_for):
    client = client_for(owner)

    with override_settings(CACHES=REDIS_DOWN_CACHE):
        worlds = client.get("/worlds")
        decide = client.get("/worlds/alpha/decide")

    assert worlds.status_code == 200
    assert decide.status_code == 200


def test_redis_down__activation_read__503_json(world, owner, client_for):
    client = client_for(owner)

    with override_settings(CACHES=REDIS_DOWN_CACHE, REDIS_URL=CLOSED):
        response = client.get("/worlds/alpha/activation?strategy_id=s1&side=long")

    assert response.status_code == 503
    assert response.json()["code"] == "dependency_unavailable"
