"""Throttles on the token API: failed authentications per address, writes per user."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from policies.models import StrategyBinding
from tests.factories import UserFactory, make_world, override_worldservice, token_for
from worlds.models import WorldAuditLog

pytestmark = pytest.mark.django_db


def _client(secret: str, address: str = "10.0.0.1", **headers: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=address, **headers)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _assert_throttled(response) -> None:
    assert response.status_code == 429, response.content[:300]
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "throttled"
    assert body["detail"]


# --- failed authentications per client address ----------------------------------------------


def test_bad_tokens__over_the_rate__429_with_retry_after():
    with override_worldservice(THROTTLE_AUTH_FAILURES="3/min"):
        answers = [_client(f"ws_bad{i}").get("/worlds").status_code for i in range(3)]
        fourth = _client("ws_bad-4").get("/worlds")

    assert answers == [401, 401, 401]
    _assert_throttled(fourth)


def test_same_bad_token_repeated__counted_each_time():
    with override_worldservice(THROTTLE_AUTH_FAILURES="2/min"):
        answers = [_client("ws_same").get("/worlds").status_code for _ in range(3)]

    assert answers == [401, 401, 429]


def test_blocked_address__new_token_not_even_looked_up(django_assert_num_queries):
    user = UserFactory()
    secret = token_for(user)
    with override_worldservice(THROTTLE_AUTH_FAILURES="1/min"):
        _client("ws_bad").get("/worlds")

        with django_assert_num_queries(0):
            response = _client(secret).get("/worlds")

    _assert_throttled(response)


def test_blocked_address__other_addresses_unaffected():
    secret = token_for(UserFactory())
    with override_worldservice(THROTTLE_AUTH_FAILURES="1/min"):
        _client("ws_bad", address="10.0.0.1").get("/worlds")
        blocked = _client("ws_bad", address="10.0.0.1").get("/worlds")
        other = _client(secret, address="10.0.0.2").get("/worlds")

    _assert_throttled(blocked)
    assert other.status_code == 200


def test_blocked_address__forwarded_for_header_is_not_trusted_by_default():
    with override_worldservice(THROTTLE_AUTH_FAILURES="1/min"):
        _client("ws_bad", HTTP_X_FORWARDED_FOR="1.1.1.1").get("/worlds")
        spoofed = _client("ws_bad", HTTP_X_FORWARDED_FOR="2.2.2.2").get("/worlds")

    _assert_throttled(spoofed)


def test_valid_cached_token__passes_while_its_address_is_blocked():
    # Given a client whose token the caches already know
    user = UserFactory()
    make_world(owner=UserFactory(permissions=["worlds.add_world"]), world_id="alpha")
    client = _client(token_for(user))
    assert client.get("/worlds").status_code == 200  # starts the auth generation
    assert client.get("/worlds").status_code == 200  # cached under it
    with override_worldservice(THROTTLE_AUTH_FAILURES="1/min"):
        # When a bad token from the same address trips the throttle
        _client("ws_bad").get("/worlds")
        _assert_throttled(_client("ws_other-bad").get("/worlds"))

        # Then the known token still works: it never consults the throttle
        assert client.get("/worlds").status_code == 200


# --- writes per user ------------------------------------------------------------------------


@pytest.fixture
def operators():
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="alpha")
    return _client(token_for(owner)), _client(token_for(UserFactory(is_superuser=True)))


def test_writes__over_the_rate__429_and_nothing_stored(operators):
    client, _ = operators
    with override_worldservice(THROTTLE_WRITES="2/min"):
        first = client.post("/worlds/alpha/bindings", {"strategies": ["s1"]}, format="json")
        second = client.post("/worlds/alpha/bindings", {"strategies": ["s2"]}, format="json")
        audit_rows = WorldAuditLog.objects.count()
        third = client.post("/worlds/alpha/bindings", {"strategies": ["s3"]}, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    _assert_throttled(third)
    assert set(StrategyBinding.objects.values_list("strategy_id", flat=True)) == {"s1", "s2"}
    assert WorldAuditLog.objects.count() == audit_rows


def test_writes__reads_are_not_counted_and_users_are_counted_apart(operators):
    client, other = operators
    with override_worldservice(THROTTLE_WRITES="1/min"):
        client.post("/worlds/alpha/bindings", {"strategies": ["s1"]}, format="json")
        reads = [client.get("/worlds/alpha/bindings").status_code for _ in range(5)]
        other_write = other.post("/worlds/alpha/bindings", {"strategies": ["s2"]}, format="json")
        own_write = client.post("/worlds/alpha/bindings", {"strategies": ["s3"]}, format="json")

    assert reads == [200] * 5
    assert other_write.status_code == 200
    _assert_throttled(own_write)
