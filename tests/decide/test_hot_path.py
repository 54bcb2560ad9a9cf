"""The Gateway's hot reads: no round trip in the steady state, and never a stale answer."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from redis.connection import AbstractConnection
from rest_framework.test import APIClient
from rest_framework.views import APIView

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


class CountingRedis:
    """Counts commands sent to Redis on any connection."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.commands = 0
        original = AbstractConnection.send_packed_command

        def counted(conn, *args, **kwargs):
            self.commands += 1
            return original(conn, *args, **kwargs)

        monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)


def test_decide_steady_state__no_round_trip_no_query(gateway, monkeypatch):
    _, client = gateway
    counting = CountingCache(monkeypatch)
    sent = CountingRedis(monkeypatch)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/worlds/hot/decide")

    assert response.status_code == 200
    assert len(queries) == 0
    assert counting.calls == []
    assert sent.commands == 0


def test_decide_tracking_unavailable__one_round_trip_no_query(gateway, monkeypatch):
    _, client = gateway
    monkeypatch.setattr("worlds.hot_reads.tracked_copies", lambda: None)
    counting = CountingCache(monkeypatch)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/worlds/hot/decide")

    assert response.status_code == 200
    assert len(queries) == 0
    assert counting.calls == ["get_many"]


def test_decide_input_changed__next_read_has_the_new_envelope(gateway, owner, client_for):
    _, client = gateway
    before = client.get("/worlds/hot/decide")

    client_for(owner).post("/worlds/hot/bindings", {"strategies": ["s-new"]}, format="json")
    after = client.get("/worlds/hot/decide")

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]


def test_token_revoked_by_another_process__refused_at_once(owner):
    """What `revoke_token` does in another process: nothing in this process's memory."""
    from worlds.hot_reads import AUTH_GENERATION
    from worlds.services.tokens import hash_token

    make_world(owner=owner, world_id="hot")
    secret = token_for(owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/worlds/hot/decide").status_code == 200
    assert client.get("/worlds/hot/decide").status_code == 200

    ApiToken.objects.filter(prefix=secret[:10]).update(revoked_at=timezone.now())
    cache.delete(f"token:{hash_token(secret)}")
    cache.set(AUTH_GENERATION, "changed elsewhere", None)

    assert client.get("/worlds/hot/decide").status_code == 401


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


def test_activation_read__steady_state_no_round_trip(gateway, owner, monkeypatch):
    from activation.services.overrides import override_activation

    _, client = gateway
    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=True)
    url = "/worlds/hot/activation?strategy_id=s1&side=long"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    sent = CountingRedis(monkeypatch)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    assert response.json()["active"] is True
    assert len(queries) == 0
    assert sent.commands == 0


def test_activation_changed__next_read_sees_it(gateway, owner):
    from activation.services.overrides import override_activation

    _, client = gateway
    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=True)
    url = "/worlds/hot/activation?strategy_id=s1&side=long"
    assert client.get(url).json()["active"] is True
    assert client.get(url).json()["active"] is True

    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=False)

    assert client.get(url).json()["active"] is False


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
    monkeypatch.setattr("worlds.hot_reads.tracked_copies", lambda: None)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)

    assert response.status_code == 200
    assert response.json()["active"] is True
    assert len(queries) == 0


def test_cached_envelope_past_its_freshness__not_served(gateway):
    from policies.decide_cache import decide_cache_key

    _, client = gateway
    real = client.get("/worlds/hot/decide").json()
    stale = {"envelope": {**real, "etag": "stale"}, "fresh_until": timezone.now().timestamp() - 1}
    cache.set(decide_cache_key("hot"), stale, 30)

    response = client.get("/worlds/hot/decide")

    assert response.status_code == 200
    assert response.json()["etag"] == real["etag"]


def test_hot_path_fault__full_view_answers(gateway, monkeypatch):
    _, client = gateway

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("policies.api.decide_views.fresh_envelope", broken)
    response = client.get("/worlds/hot/decide")

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=")


@pytest.mark.parametrize(
    "url,status",
    [
        ("/worlds/hot/decide", 200),
        ("/worlds/hot/decide?as_of=2030-01-01T00:00:00Z", 200),
        ("/worlds/hot/activation?strategy_id=s1&side=long", 200),
        ("/worlds/hot/activation", 200),
        ("/worlds/hot/activation?strategy_id=s1", 400),
        ("/worlds/nope/activation?strategy_id=s1&side=long", 404),
    ],
)
def test_hot_reads__one_code_path__never_through_drf(gateway, owner, monkeypatch, url, status):
    """Every read of decide and activation, answer or refusal, takes the one fast path."""
    from activation.services.overrides import override_activation

    _, client = gateway
    override_activation(actor=owner, world_id="hot", strategy_id="s1", side="long", active=True)
    drf_requests: list[object] = []
    original_initial = APIView.initial

    def counted_initial(self, request, *args, **kwargs):
        drf_requests.append(request)
        return original_initial(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "initial", counted_initial)
    response = client.get(url)

    assert drf_requests == []
    assert response.status_code == status
    allowed = "GET, PUT, HEAD, OPTIONS" if "activation" in url else "GET, HEAD, OPTIONS"
    assert response["Allow"] == allowed
