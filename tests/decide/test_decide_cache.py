"""Decide's cache never outlives a change, even when Redis fails in the middle of one."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from activation.redis_client import get_redis
from policies.decide_cache import (
    HOLD_SECONDS,
    cached_decision,
    decide_cache_key,
    decision_token,
    forget_decision,
    remember_decision,
)
from policies.services.decide import decide
from tests.factories import make_world
from worlds.models import World, WorldAuditLog, WorldEvent
from worldservice.api.errors import DependencyUnavailable

pytestmark = pytest.mark.django_db

CLOSED = "redis://127.0.0.1:1/0"
REDIS_DOWN_CACHE = {
    "default": {"BACKEND": "worldservice.redis_cache.PooledRedisCache", "LOCATION": CLOSED}
}
ENVELOPE = {"world_id": "w", "effective_mode": "live", "etag": "w:w:v0:x"}


@pytest.fixture
def live_world(owner):
    return make_world(owner=owner, world_id="live", allow_live=True, approvals_required=0)


def test_remember_decision__nothing_changed__cached():
    token = decision_token("w")

    remember_decision("w", ENVELOPE, 30, token)

    assert cached_decision("w") == ENVELOPE


def test_remember_decision__a_change_began_after_the_read__not_cached():
    token = decision_token("w")
    forget_decision("w")  # outside a transaction: begins and settles at once

    remember_decision("w", ENVELOPE, 30, token)

    assert cached_decision("w") is None


def test_remember_decision__change_in_flight__not_cached_until_it_commits(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        forget_decision("w")
        token = decision_token("w")  # a reader that started after the change began
        remember_decision("w", ENVELOPE, 30, token)
        assert cached_decision("w") is None
    # After the commit, a reader that read the old data still cannot store it...
    remember_decision("w", ENVELOPE, 30, token)
    assert cached_decision("w") is None
    # ... while a reader that starts now can.
    remember_decision("w", ENVELOPE, 30, decision_token("w"))
    assert cached_decision("w") == ENVELOPE


def test_remember_decision__settle_after_commit_lost__hold_keeps_readers_from_caching(
    django_capture_on_commit_callbacks,
):
    # The step after the commit never runs (as when Redis goes away at that moment).
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        forget_decision("w")
        token = decision_token("w")

    remember_decision("w", ENVELOPE, 30, token)

    assert cached_decision("w") is None
    remember_decision("w", ENVELOPE, 30, decision_token("w"))  # even a reader starting now
    assert cached_decision("w") is None
    assert 0 < get_redis().ttl(cache.make_key("decide-hold:w")) <= HOLD_SECONDS


def test_forget_decision__redis_down__refused_with_503():
    with override_settings(CACHES=REDIS_DOWN_CACHE), pytest.raises(DependencyUnavailable) as info:
        forget_decision("w")

    assert info.value.status_code == 503
    assert info.value.code == "dependency_unavailable"


def test_world_patch__redis_down__503_and_nothing_stored(live_world, owner, client_for):
    client = client_for(owner)
    audit_rows, events = WorldAuditLog.objects.count(), WorldEvent.objects.count()

    with override_settings(CACHES=REDIS_DOWN_CACHE):
        response = client.patch("/worlds/live", {"circuit_breaker": True}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "dependency_unavailable"
    assert response["Retry-After"] == "5"
    assert World.objects.get(pk="live").circuit_breaker is False
    assert (WorldAuditLog.objects.count(), WorldEvent.objects.count()) == (audit_rows, events)


def test_decide__redis_down__computed_from_the_database_and_not_cached(live_world):
    with override_settings(CACHES=REDIS_DOWN_CACHE):
        body = decide("live")

    assert body["world_id"] == "live" and body["effective_mode"] == "validate"
    assert cache.get(decide_cache_key("live")) is None
