"""The token cache holds ids and flags only, and random tokens cannot make it grow."""

from __future__ import annotations

import pickle

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import UserFactory, token_for
from worlds.hot_reads import AUTH_GENERATION
from worlds.models import ApiToken
from worlds.principals import TokenUser
from worlds.services.tokens import (
    LOCAL_TOKENS,
    RECENT_MISSES,
    RecentMisses,
    hash_token,
    token_user,
)

pytestmark = pytest.mark.django_db


def _get(secret: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get("/worlds").status_code


def _redis_keys(pattern: str) -> list[bytes]:
    client = cache._cache.get_client(write=False)  # the Redis client behind the cache
    return list(client.scan_iter(match=cache.make_key(pattern)))


def test_token_cache__holds_no_password_hash_and_no_user_object():
    user = UserFactory(username="dana", is_superuser=True)
    user.set_password("a long and secret password")
    user.save()
    secret = token_for(user)
    _get("ws_warm-up")  # starts the auth generation the entry is tagged with
    assert _get(secret) == 200

    entry = cache.get(f"token:{hash_token(secret)}")

    assert entry is not None
    assert all(isinstance(part, int | bool | str | type(None)) for part in entry), entry
    assert entry[:3] == (user.pk, True, True)
    raw = pickle.dumps(entry)
    assert user.password.encode() not in raw and b"pbkdf2" not in raw and b"dana" not in raw


def test_token_user__answers_ids_and_flags_only():
    user = UserFactory(is_superuser=False)
    found = token_user(token_for(user), generation=cache.get(AUTH_GENERATION))

    assert found == TokenUser(pk=user.pk, is_active=True, is_superuser=False)


def test_random_tokens__add_nothing_to_the_shared_cache():
    _get("ws_warm-up")  # starts the auth generation
    before, misses = _redis_keys("token:*"), len(RECENT_MISSES)

    answers = {_get(f"ws_random-{i}") for i in range(25)}

    assert answers == {401}
    assert _redis_keys("token:*") == before
    assert len(RECENT_MISSES) == misses + 25


def test_repeated_bad_token__database_asked_once():
    _get("ws_warm-up")
    _get("ws_bad")

    with CaptureQueriesContext(connection) as queries:
        assert _get("ws_bad") == 401

    assert not [q for q in queries if "worlds_apitoken" in q["sql"]]


def test_recent_misses__bounded_least_recently_used_first_out():
    misses = RecentMisses(max_entries=3)
    for key in ("a", "b", "c"):
        misses.add(key, "g1", 60)
    assert ("a", "g1") in misses  # now the most recently used

    misses.add("d", "g1", 60)

    assert len(misses) == 3
    assert ("b", "g1") not in misses
    assert ("a", "g1") in misses and ("d", "g1") in misses
    assert ("a", "g2") not in misses  # another generation: forgotten


def test_shared_entry_from_an_older_generation__ignored():
    # Given a token cached while valid
    user = UserFactory()
    secret = token_for(user)
    _get("ws_warm-up")
    assert _get(secret) == 200
    key = f"token:{hash_token(secret)}"
    stale = cache.get(key)

    # When it is revoked behind the services' back and the process forgets its local copy,
    # while the old shared entry is put back (a racing reader)
    ApiToken.objects.filter(user=user).update(revoked_at=timezone.now())
    cache.set(AUTH_GENERATION, "a-newer-generation", None)
    cache.set(key, stale, 30)
    LOCAL_TOKENS.clear()

    # Then the entry's generation gives it away and the database answers
    assert _get(secret) == 401
