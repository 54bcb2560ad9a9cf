"""Worlds CRUD over HTTP: shapes, ETags, conditional requests, filters and pagination."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory, make_world
from worlds.models import World, WorldAuditLog, WorldEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator():
    return UserFactory(username="carol", permissions=["worlds.add_world"])


def test_create_world__valid_body__201_with_location_etag_and_owner_role(creator, client_for):
    client = client_for(creator)

    response = client.post(
        "/worlds",
        {"id": "crypto_mom_1h", "name": "Crypto momentum 1h", "labels": ["crypto"]},
        format="json",
    )

    assert response.status_code == 201
    assert response["Location"] == "/worlds/crypto_mom_1h"
    assert response["ETag"] == '"world:crypto_mom_1h:1"'
    _assert_new_world_defaults(response.json())
    members = client.get("/worlds/crypto_mom_1h/members").json()
    assert members == [{"user": "carol", "role": "owner"}]
    assert (
        WorldAuditLog.objects.filter(world_id="crypto_mom_1h", event="world_created").count() == 1
    )
    assert WorldEvent.objects.filter(world_id="crypto_mom_1h", type="world_updated").exists()


def _assert_new_world_defaults(body):
    assert body["owner"] == "carol"
    assert body["state"] == "ACTIVE"
    assert body["approvals_required"] == 1
    assert body["default_policy_version"] is None
    assert body["created_at"].endswith("Z")


def test_create_world__duplicate_id__409_and_original_untouched(creator, client_for):
    client = client_for(creator)
    client.post("/worlds", {"id": "w1", "name": "First"}, format="json")

    response = client.post("/worlds", {"id": "w1", "name": "Second"}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate"
    assert World.objects.get(pk="w1").name == "First"


def test_create_world__without_add_permission__403(client_for):
    response = client_for(UserFactory()).post("/worlds", {"id": "w1", "name": "x"}, format="json")

    assert response.status_code == 403
    assert not World.objects.exists()


def test_get_world__if_none_match_current_etag__304(world, owner, client_for):
    client = client_for(owner)
    etag = client.get("/worlds/alpha")["ETag"]

    assert client.get("/worlds/alpha", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get("/worlds/alpha", HTTP_IF_NONE_MATCH="world:alpha:1").status_code == 304
    assert client.get("/worlds/alpha", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_put_world__full_body__replaces_fields_and_bumps_etag(world, owner, client_for):
    client = client_for(owner)
    current = client.get("/worlds/alpha")
    body = current.json() | {"name": "Alpha prime", "circuit_breaker": True, "labels": ["b", "a"]}

    response = client.put("/worlds/alpha", body, format="json", HTTP_IF_MATCH=current["ETag"])

    assert response.status_code == 200, response.json()
    assert response["ETag"] == '"world:alpha:2"'
    assert response.json()["labels"] == ["a", "b"]
    assert World.objects.get(pk="alpha").circuit_breaker is True


def test_put_world__missing_required_name__400(world, owner, client_for):
    response = client_for(owner).put("/worlds/alpha", {"description": "x"}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_patch_world__stale_if_match__412_and_unchanged(world, owner, client_for):
    response = client_for(owner).patch(
        "/worlds/alpha", {"name": "x"}, format="json", HTTP_IF_MATCH='"world:alpha:99"'
    )

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert World.objects.get(pk="alpha").name == "Alpha"


@pytest.mark.parametrize(
    "field,value",
    [
        ("id", "other"),
        ("created_at", "2020-01-01T00:00:00Z"),
        ("owner", "mallory"),
        ("default_policy_version", 7),
    ],
)
def test_patch_world__immutable_or_read_only_field_changed__400(
    world, owner, client_for, field, value
):
    response = client_for(owner).patch("/worlds/alpha", {field: value}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_patch_world__echoing_read_only_fields_unchanged__200(world, owner, client_for):
    client = client_for(owner)
    body = client.get("/worlds/alpha").json()

    assert client.patch("/worlds/alpha", body, format="json").status_code == 200


def test_delete_world__moves_to_deleted_and_stays_readable(world, owner, client_for):
    client = client_for(owner)

    assert client.delete("/worlds/alpha").status_code == 204

    detail = client.get("/worlds/alpha")
    assert detail.status_code == 200
    assert detail.json()["state"] == "DELETED"
    assert client.get("/worlds").json()["results"] == []
    deleted = client.get("/worlds?state=DELETED").json()["results"]
    assert [w["id"] for w in deleted] == ["alpha"]
    assert WorldAuditLog.objects.filter(world_id="alpha", event="world_deleted").count() == 1


def test_list_worlds__filters_by_state_and_label(owner, client_for):
    make_world(owner=owner, world_id="a", labels=["crypto"])
    make_world(owner=owner, world_id="b", labels=["fx"], state="SUSPENDED")
    client = client_for(owner)

    assert [w["id"] for w in client.get("/worlds?label=crypto").json()["results"]] == ["a"]
    assert [w["id"] for w in client.get("/worlds?state=SUSPENDED").json()["results"]] == ["b"]
    assert client.get("/worlds?state=BOGUS").status_code == 400


def test_list_worlds__cursor_pagination__walks_every_world_once(owner, client_for):
    for index in range(7):
        make_world(owner=owner, world_id=f"w{index}")
    client = client_for(owner)

    seen, url = [], "/worlds?limit=3"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 3
        seen += [w["id"] for w in page["results"]]
        url = page["next"]

    assert seen == [f"w{index}" for index in range(7)]


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "cursor=%%%", "cursor=bm90LWpzb24"])
def test_list_worlds__bad_paging_parameters__400(owner, client_for, query):
    response = client_for(owner).get(f"/worlds?{query}")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "invalid_cursor"}


def test_list_worlds__limit_above_500__clamped(owner, client_for):
    make_world(owner=owner, world_id="a")

    assert client_for(owner).get("/worlds?limit=100000").status_code == 200


def test_list_worlds__only_worlds_with_a_role(owner, client_for):
    make_world(owner=owner, world_id="mine")
    stranger = UserFactory(permissions=["worlds.add_world"])
    make_world(owner=stranger, world_id="theirs")

    ids = [w["id"] for w in client_for(owner).get("/worlds").json()["results"]]

    assert ids == ["mine"]


def test_describe__no_default_policy__world_fields_and_null_policy(world, owner, client_for):
    body = client_for(owner).get("/worlds/alpha/describe").json()

    assert body["id"] == "alpha"
    assert body["policy"] is None


def test_trailing_slash__same_resource(world, owner, client_for):
    assert client_for(owner).get("/worlds/alpha/").status_code == 200


def test_correlation_id__echoed_and_stored_on_audit(creator, client_for):
    response = client_for(creator).post(
        "/worlds", {"id": "w1", "name": "x"}, format="json", HTTP_X_CORRELATION_ID="req-123"
    )

    assert response["X-Correlation-ID"] == "req-123"
    row = WorldAuditLog.objects.get(world_id="w1", event="world_created")
    assert row.correlation_id == "req-123"


def test_correlation_id__invalid_value__replaced_by_generated(creator, client_for):
    response = client_for(creator).post(
        "/worlds",
        {"id": "w1", "name": "x"},
        format="json",
        HTTP_X_CORRELATION_ID="bad id with spaces",
    )

    generated = response["X-Correlation-ID"]
    assert generated != "bad id with spaces"
    assert WorldAuditLog.objects.get(world_id="w1").correlation_id == generated
