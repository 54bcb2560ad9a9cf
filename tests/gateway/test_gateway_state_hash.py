"""`GET /worlds/{id}/{topic}/state_hash` for the topics `activation` and `policy`.

See docs/contract.md#what-the-existing-gateway-sends and docs/api.md#state-hashes.
"""

from __future__ import annotations

import re

import pytest

from policies.models import WorldPolicy
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = pytest.mark.django_db

POLICY = "selection: {gates: ['sharpe >= 0.6']}\n"
SHAPE = ["world_id", "topic", "state_hash", "version"]


@pytest.fixture
def open_world(world):
    """`world` ("alpha"), where a first version becomes the default without review."""
    world.approvals_required = 0
    world.save()
    return world


@pytest.fixture
def client(owner, client_for):
    return client_for(owner)


def _hash(client, topic, world_id="alpha"):
    response = client.get(f"/worlds/{world_id}/{topic}/state_hash")
    assert response.status_code == 200, response.content
    return response.json()


def _upload(client, text=POLICY):
    response = client.post("/worlds/alpha/policies", {"yaml": text}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_policy_hash__no_default_policy__null_hash_version_0(open_world, client):
    body = _hash(client, "policy")

    assert list(body) == SHAPE
    assert body == {"world_id": "alpha", "topic": "policy", "state_hash": None, "version": 0}


def test_policy_hash__the_default_versions_checksum_and_number(open_world, client):
    uploaded = _upload(client)  # the first version becomes the default at once

    body = _hash(client, "policy")

    assert body["state_hash"] == uploaded["checksum"]
    assert body["version"] == 1
    assert body["state_hash"] == WorldPolicy.objects.get(version=1).checksum


def test_policy_hash__a_draft_changes_nothing_set_default_changes_it(open_world, client):
    _upload(client)
    first = _hash(client, "policy")
    _upload(client, POLICY.replace("0.6", "0.9"))  # v2: a draft

    assert _hash(client, "policy") == first

    client.post("/worlds/alpha/set-default", {"version": 2}, format="json")
    second = _hash(client, "policy")
    assert second["version"] == 2
    assert second["state_hash"] != first["state_hash"]


def test_activation_hash__superset_shape_changes_with_a_write(open_world, client):
    before = _hash(client, "activation")
    put = {"strategy_id": "s1", "side": "long", "active": True}
    assert client.put("/worlds/alpha/activation", put, format="json").status_code == 200

    after = _hash(client, "activation")

    assert list(after) == SHAPE
    assert (after["world_id"], after["topic"]) == ("alpha", "activation")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", after["state_hash"])
    assert (before["version"], after["version"]) == (0, 1)
    assert after["state_hash"] != before["state_hash"]
    whole_set = client.get("/worlds/alpha/activation").json()
    assert (whole_set["state_hash"], whole_set["version"]) == (after["state_hash"], 1)


@pytest.mark.parametrize("topic", ["policies_x", "decide", "Activation", "state_hash"])
def test_unknown_topic__404_naming_the_topics(open_world, client, topic):
    response = client.get(f"/worlds/alpha/{topic}/state_hash")

    assert response.status_code == 404
    problem = response.json()
    assert problem["code"] == "not_found"
    assert "'activation'" in problem["detail"]
    assert "'policy'" in problem["detail"]


def test_unknown_topic_on_a_world_without_role__404_for_the_world(open_world, member, client_for):
    response = client_for(member("none")).get("/worlds/alpha/bogus/state_hash")

    assert response.status_code == 404
    assert "'policy'" not in response.json()["detail"]  # existence of the world is not leaked


@pytest.mark.parametrize("topic", ["activation", "policy"])
@pytest.mark.parametrize(("role", "expected"), [("none", 404), ("reader", 200)])
def test_state_hash__roles(open_world, member, client_for, topic, role, expected):
    assert client_for(member(role)).get(f"/worlds/alpha/{topic}/state_hash").status_code == (
        expected
    )


@pytest.mark.parametrize("topic", ["activation", "policy"])
def test_state_hash__no_credential__401(open_world, client_for, topic):
    assert client_for(None).get(f"/worlds/alpha/{topic}/state_hash").status_code == 401


def test_state_hash__unknown_world__404(open_world, client):
    assert client.get("/worlds/nowhere/policy/state_hash").status_code == 404


def test_member_named_state_hash__keeps_its_route(open_world, owner, client, user_factory):
    named = user_factory(username="state_hash")
    grant_role(world=open_world, user=named, role=Role.READER)

    response = client.delete("/worlds/alpha/members/state_hash")

    assert response.status_code == 204
