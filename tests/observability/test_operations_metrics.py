"""Metrics and health items of issue "Operations": promotion/demotion failures, the clock
offset on /readyz and /metrics, and the consumers on the activation console."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY

from activation.consumers.services import Acknowledgement, acknowledge
from activation.services.overrides import override_activation
from tests.factories import UserFactory
from worlds.roles import Role
from worlds.services.members import grant_role
from worldservice.clock_health import SERVER_SKEW_LIMIT_SECONDS

pytestmark = pytest.mark.django_db


def _sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def _apply(client, run_id, activate, deactivate):
    response = client.post(
        "/worlds/alpha/apply",
        {"run_id": run_id, "plan": {"activate": activate, "deactivate": deactivate}},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def _break_switch(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("switch exploded")

    monkeypatch.setattr("activation.apply.services.switch_changes", broken)


@pytest.fixture
def operator(world):
    user = UserFactory(username="opal")
    grant_role(world=world, user=user, role=Role.OPERATOR)
    return user


def test_failed_promotion__promotion_fail_total_only(operator, client_for, monkeypatch):
    promotions, demotions = _sample("promotion_fail_total"), _sample("demotion_fail_total")
    _break_switch(monkeypatch)

    body = _apply(client_for(operator), "promote", ["s1"], [])

    assert body["phase"] == "rolled_back"
    assert _sample("promotion_fail_total") == promotions + 1
    assert _sample("demotion_fail_total") == demotions


def test_failed_demotion__demotion_fail_total_only(operator, client_for, monkeypatch):
    _apply(client_for(operator), "first", ["s1", "s2"], [])
    promotions, demotions = _sample("promotion_fail_total"), _sample("demotion_fail_total")
    _break_switch(monkeypatch)

    body = _apply(client_for(operator), "demote", [], ["s1"])

    assert body["phase"] == "rolled_back"
    assert _sample("demotion_fail_total") == demotions + 1
    assert _sample("promotion_fail_total") == promotions


def test_completed_apply__no_failure_counted(operator, client_for):
    promotions, demotions = _sample("promotion_fail_total"), _sample("demotion_fail_total")

    _apply(client_for(operator), "fine", ["s1"], [])

    assert (_sample("promotion_fail_total"), _sample("demotion_fail_total")) == (
        promotions,
        demotions,
    )


def test_readyz__clock_item_against_database_and_redis():
    body = Client().get("/readyz").json()

    clock = body["clock"]
    assert clock["status"] == "ok"
    assert clock["limit_seconds"] == SERVER_SKEW_LIMIT_SECONDS
    assert set(clock["offsets_seconds"]) == {"database", "redis"}
    # Same host: the offsets are the measuring error, far inside the limit.
    assert all(
        abs(value) < SERVER_SKEW_LIMIT_SECONDS for value in clock["offsets_seconds"].values()
    )


def test_metrics__new_names_present_without_world_labels():
    text = Client().get("/metrics").content.decode()

    for name in (
        "promotion_fail_total",
        "demotion_fail_total",
        "activation_skew_seconds_bucket",
        "activation_stale_consumers",
        'clock_offset_seconds{reference="database"}',
        'clock_offset_seconds{reference="redis"}',
        "event_relay_lag_seconds",
    ):
        assert name in text
    assert "world_id=" not in text


def test_console__shows_each_consumer_and_whether_it_is_behind(world, owner):
    first = override_activation(
        actor=owner, world_id="alpha", strategy_id="s1", side="long", active=True
    )
    acknowledge("alpha", Acknowledgement("gw-behind", first["etag"], timezone.now()))
    second = override_activation(
        actor=owner, world_id="alpha", strategy_id="s2", side="long", active=True
    )
    acknowledge("alpha", Acknowledgement("gw-current", second["etag"], timezone.now()))
    staff = UserFactory(username="rita", is_staff=True)
    grant_role(world=world, user=staff, role=Role.READER)
    client = Client()
    client.force_login(staff)

    page = client.get(reverse("admin:activation_console", args=["alpha"])).content.decode()

    assert 'id="consumers-table"' in page
    assert "gw-behind" in page and "gw-current" in page
    assert "1 version," in page
    assert "Not every consumer has processed version 2." in page
