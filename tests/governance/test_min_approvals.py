"""The deployment's floor under `approvals_required` (WORLDSERVICE_MIN_APPROVALS)."""

from __future__ import annotations

import pytest

from tests.factories import make_world, override_worldservice
from worlds.models import World, WorldChange
from worldservice.config import ConfigError, load_config

pytestmark = pytest.mark.django_db


def test_config__default_floor_is_zero():
    assert load_config({}).min_approvals == 0
    assert load_config({}).as_settings()["MIN_APPROVALS"] == 0


def test_config__floor_from_environment():
    assert load_config({"WORLDSERVICE_MIN_APPROVALS": "2"}).as_settings()["MIN_APPROVALS"] == 2


@pytest.mark.parametrize("raw", ["-1", "6", "one"])
def test_config__unusable_floor__config_error(raw):
    with pytest.raises(ConfigError, match="WORLDSERVICE_MIN_APPROVALS"):
        load_config({"WORLDSERVICE_MIN_APPROVALS": raw})


def test_create__below_floor__400_naming_the_floor_and_nothing_stored(owner, client_for):
    client = client_for(owner)
    with override_worldservice(MIN_APPROVALS=2):
        response = client.post(
            "/worlds", {"id": "w1", "name": "W", "approvals_required": 1}, format="json"
        )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "below_min_approvals"
    assert "at least 2" in body["detail"]
    assert "WORLDSERVICE_MIN_APPROVALS=2" in body["detail"]
    assert "approvals_required" in body["errors"]
    assert not World.objects.filter(pk="w1").exists()


def test_create__without_approvals__gets_the_floor_when_above_the_default(owner, client_for):
    with override_worldservice(MIN_APPROVALS=3):
        response = client_for(owner).post("/worlds", {"id": "w1", "name": "W"}, format="json")

    assert response.status_code == 201
    assert response.json()["approvals_required"] == 3


def test_create__at_the_floor__201(owner, client_for):
    with override_worldservice(MIN_APPROVALS=1):
        response = client_for(owner).post(
            "/worlds", {"id": "w1", "name": "W", "approvals_required": 1}, format="json"
        )

    assert response.status_code == 201


def test_update__below_floor__400_and_nothing_stored(owner, client_for):
    make_world(owner=owner, world_id="alpha", approvals_required=2)
    client = client_for(owner)

    with override_worldservice(MIN_APPROVALS=2):
        response = client.patch("/worlds/alpha", {"approvals_required": 1}, format="json")

    assert response.status_code == 400
    assert "WORLDSERVICE_MIN_APPROVALS=2" in response.json()["detail"]
    assert World.objects.get(pk="alpha").approvals_required == 2
    assert not WorldChange.objects.exists()  # refused outright, not held for review


def test_update__world_below_a_raised_floor__other_fields_still_editable(owner, client_for):
    make_world(owner=owner, world_id="legacy", approvals_required=0)
    client = client_for(owner)

    with override_worldservice(MIN_APPROVALS=1):
        renamed = client.patch(
            "/worlds/legacy", {"name": "Legacy", "approvals_required": 0}, format="json"
        )
        raised = client.patch("/worlds/legacy", {"approvals_required": 1}, format="json")
        lowered = client.patch("/worlds/legacy", {"approvals_required": 0}, format="json")

    assert renamed.status_code == 200
    assert raised.status_code == 200
    assert lowered.status_code == 400
    assert World.objects.get(pk="legacy").approvals_required == 1
