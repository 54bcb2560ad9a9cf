"""Policy upload from a preset, as the existing CLI sends it.

See docs/contract.md#what-the-existing-gateway-sends.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from policies.models import WorldPolicy
from tests.factories import make_world
from tests.gateway.wire import body, post_json, raw_body
from worlds.models import WorldAuditLog

pytestmark = pytest.mark.django_db

URL = "/worlds/alpha/policies"
FIXTURE = "policy_preset_cli.json"
PRESET_KEYS = ("policy_preset", "policy_preset_mode", "policy_preset_version", "policy_overrides")


@pytest.fixture
def open_world(owner):
    """No review needed: the first version becomes the default at once."""
    return make_world(owner=owner, world_id="alpha", approvals_required=0)


@pytest.fixture
def client(owner, client_for):
    return client_for(owner)


def _describe(client):
    return client.get("/worlds/alpha/describe").json()


def _nothing_stored() -> None:
    assert not WorldPolicy.objects.exists()
    assert not WorldAuditLog.objects.filter(event="policy_added").exists()


def test_cli_preset_upload__as_sent__201_and_nulls_mean_not_given(open_world, client):
    response = post_json(client, URL, raw_body(FIXTURE))

    assert response.status_code == 201, response.content
    stored = WorldPolicy.objects.get(world=open_world, version=1)
    assert stored.preset == "conservative"
    assert (stored.preset_mode, stored.preset_version, stored.preset_overrides) == (None,) * 3
    described = _describe(client)
    assert described["policy_preset"] == "conservative"
    assert described["policy_preset_mode"] is None
    assert described["policy_preset_version"] is None
    assert described["policy_overrides"] is None
    assert "sharpe >= 1" in described["policy_human"]


def test_preset_upload__mode_version_and_overrides__stored_and_described(open_world, client):
    overrides = {"max_drawdown.max": 0.15, "sharpe.min": 1.2}
    payload = {
        **body(FIXTURE),
        "preset_mode": "extend",
        "preset_version": "2025.08-r3",
        "preset_overrides": overrides,
    }

    assert post_json(client, URL, payload).status_code == 201

    described = _describe(client)
    assert described["policy_preset"] == "conservative"
    assert described["policy_preset_mode"] == "extend"
    assert described["policy_preset_version"] == "2025.08-r3"
    assert described["policy_overrides"] == overrides
    assert "sharpe >= 1.2" in described["policy_human"]
    version = client.get(f"{URL}/1").json()
    assert (version["preset"], version["preset_mode"]) == ("conservative", "extend")
    assert version["preset_overrides"] == overrides
    audit = WorldAuditLog.objects.get(event="policy_added").request
    assert (audit["preset_mode"], audit["preset_version"]) == ("extend", "2025.08-r3")


def test_describe__describes_the_default_version_not_the_newest(open_world, client):
    post_json(client, URL, {"yaml": "selection: {gates: ['sharpe >= 0.6']}"})  # v1, default
    post_json(client, URL, {**body(FIXTURE), "preset_mode": "clone"})  # v2, a draft

    before = _describe(client)
    client.post("/worlds/alpha/set-default", {"version": 2}, format="json")
    after = _describe(client)

    assert before["default_policy_version"] == 1
    assert {key: before[key] for key in PRESET_KEYS} == dict.fromkeys(PRESET_KEYS)
    assert after["default_policy_version"] == 2
    assert (after["policy_preset"], after["policy_preset_mode"]) == ("conservative", "clone")


def test_describe__default_made_without_preset__preset_fields_null(open_world, client):
    post_json(client, URL, {"yaml": "selection: {gates: ['sharpe >= 0.6']}"})

    described = _describe(client)

    assert described["default_policy_version"] == 1
    assert {key: described[key] for key in PRESET_KEYS} == dict.fromkeys(PRESET_KEYS)


def test_yaml_document_starting_from_a_preset__preset_recorded(open_world, client):
    text = "preset: moderate\npreset_overrides: {top_k.k: 2}\n"

    assert post_json(client, URL, {"yaml": text}).status_code == 201

    stored = WorldPolicy.objects.get()
    assert stored.yaml == text
    assert (stored.preset, stored.preset_overrides) == ("moderate", {"top_k.k": 2})
    assert stored.preset_mode is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"preset_mode": "fork"}, "preset_mode"),
        ({"preset_mode": "SHARED"}, "preset_mode"),
        ({"preset_mode": 1}, "preset_mode"),
        ({"preset_version": 3}, "preset_version"),
        ({"preset_version": "v" * 65}, "preset_version"),
        ({"preset_overrides": ["sharpe.min"]}, "preset_overrides"),
        ({"preset_source": "cli"}, "preset_source"),
    ],
)
def test_preset_upload__bad_detail__400_nothing_stored(open_world, client, change, field):
    response = post_json(client, URL, {**body(FIXTURE), **change})

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    _nothing_stored()


@pytest.mark.parametrize("detail", ["preset_mode", "preset_version", "preset_overrides"])
def test_preset_details_without_a_preset__400(open_world, client, detail):
    value = {"preset_mode": "shared", "preset_version": "1", "preset_overrides": {}}[detail]

    response = post_json(client, URL, {"yaml": "preset: sandbox", detail: value})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [detail]
    _nothing_stored()


def test_preset_details_null_beside_yaml__not_given(open_world, client):
    payload = {"yaml": "preset: sandbox", "preset_mode": None, "preset_version": None}

    assert post_json(client, URL, payload).status_code == 201


def test_preset_overrides__200__accepted(open_world, client):
    overrides = {f"m{i:03d}.min": 0.1 for i in range(200)}

    response = post_json(client, URL, {**body(FIXTURE), "preset_overrides": overrides})

    assert response.status_code == 201, response.content
    assert len(WorldPolicy.objects.get().preset_overrides) == 200


def test_preset_overrides__201__400_before_any_is_looked_at(open_world, client):
    # Keys that are not even overrides: had each been checked, each would have its own error.
    overrides = {f"not an override {i}": None for i in range(201)}

    response = post_json(client, URL, {**body(FIXTURE), "preset_overrides": overrides})

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors == {"preset_overrides": ["At most 200 entries (this has 201)."]}
    _nothing_stored()


def test_preset_overrides_in_a_document__201__400_nothing_stored(open_world, client):
    overrides = {f"m{i:03d}.min": 0.1 for i in range(201)}

    response = post_json(
        client, URL, {"policy": {"preset": "sandbox", "preset_overrides": overrides}}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "preset_overrides": ["at most 200 overrides (this has 201)"]
    }
    _nothing_stored()


def test_stored_preset_fields__refused_by_the_database(open_world, client):
    post_json(client, URL, raw_body(FIXTURE))

    for column, value in [("preset", "'aggressive'"), ("preset_mode", "'clone'")]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE policies_worldpolicy SET {column} = {value}")  # noqa: S608
