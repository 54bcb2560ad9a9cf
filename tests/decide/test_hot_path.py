"""The Gateway's hot reads cost one shared-cache round trip and no database query."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import UserFactory, make_world, token_for
from worlds.models import ApiToken
from worlds.roles import Role
from worlds.services.members import grant_role
from worlds.services.tokens import revoke_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(owner, client_for):
    world = make_world(owner=owner, world_id="hot")
    user = UserFactory(username="gateway")
    grant_role(world=world, user=user, role=Role.READER)
    client = client_for(user)
    assert client.get("/worlds/hot/decide").status_code == 200  # warm every cache
    assert client.get("/worlds/hot/decide").status_code == 200
    return user, client


class CountingCache:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for name in ("get", "get_many", "set", "add", "delete"):
            original = getattr(cache, name)
            monkeypatch.setattr(cache, name, self._counted(name, original))

    def _counted(self, name, original):
        def counted(*args, **kwargs):
            self.calls.append(name)
            return original(*args, **kwargs)

        return counted


def test_decide_steady_state__one_round_trip_no_query(gateway, monkeypatch):
    _, client = gateway
    counting = CountingCache(monkeypatch)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/worlds/hot/decide")

    assert response.status_code == 200
    assert len(queries) == 0
    assert counting.calls == ["get_many"]


def test_role_removed__next_read_sees_it_at_once(gateway, owner, client_for):
    user, client = gateway

    client_for(owner).delete(f"/worlds/hot/members/{user.username}")

    assert client.get("/worlds/hot/decide").status_code == 404


def test_token_revoked__next_read_refused_at_once(owner, client_for):
    make_world(owner=owner, world_id="hot")
    secret = token_for(owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/worlds/hot/decide").status_code == 200
    assert client.get("/worlds/hot/decide").status_code == 200

    revoke_token(token=ApiToken.objects.get(prefix=secret[:10]), actor="t")

    assert client.get("/worlds/hot/decide").status_code == 401


def test_generations_lost__reads_fall_back_and_stay_correct(gateway):
    _, client = gateway
    cache.clear()  # as after a Redis restart

    assert client.get("/worlds/hot/decide").status_code == 200
    assert client.get("/worlds/hot/decide").status_code == 200


def test_activation_read__entry_rides_in_the_prefetch_round_trip(gateway, owner, monkeypatch):
    from activation.services.overrides import override_activation
    from activation.store.redis import RedisActivationStore

    _, client = gateway
    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=True)
    url = "/worlds/hot/activation?strategy_id=s1&side=long"
    assert client.get(url).status_code == 200

    def no_second_trip(*args, **kwargs):
        raise AssertionError("the entry should come from the prefetch pipeline")

    monkeypatch.setattr(RedisActivationStore, "get", no_second_trip)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    assert response.json()["active"] is True
    assert len(queries) == 0
