"""World membership: roles are granted, changed and removed; the last owner stays."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from worlds.models import WorldAuditLog

pytestmark = pytest.mark.django_db


def test_put_member__new_user__gets_role_and_audit_row(world, owner, client_for):
    UserFactory(username="bob")
    client = client_for(owner)

    response = client.put("/worlds/alpha/members/bob", {"role": "operator"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"user": "bob", "role": "operator"}
    assert {"user": "bob", "role": "operator"} in client.get("/worlds/alpha/members").json()
    row = WorldAuditLog.objects.filter(world_id="alpha", event="member_changed").get()
    assert row.result == {"before": None, "after": "operator"}


def test_put_member__role_change__takes_effect_at_once(world, owner, client_for):
    bob = UserFactory(username="bob")
    owner_client, bob_client = client_for(owner), client_for(bob)
    owner_client.put("/worlds/alpha/members/bob", {"role": "reader"}, format="json")
    assert bob_client.patch("/worlds/alpha", {"name": "x"}, format="json").status_code == 403

    owner_client.put("/worlds/alpha/members/bob", {"role": "owner"}, format="json")

    assert bob_client.patch("/worlds/alpha", {"name": "x"}, format="json").status_code == 200


def test_put_member__unknown_user__404(world, owner, client_for):
    response = client_for(owner).put(
        "/worlds/alpha/members/ghost", {"role": "reader"}, format="json"
    )

    assert response.status_code == 404


@pytest.mark.parametrize("body", [{"role": "admin"}, {}, {"role": "reader", "x": 1}, []])
def test_put_member__bad_body__400_and_nothing_granted(world, owner, client_for, body):
    UserFactory(username="bob")
    client = client_for(owner)

    assert client.put("/worlds/alpha/members/bob", body, format="json").status_code == 400
    assert [m["user"] for m in client.get("/worlds/alpha/members").json()] == ["olivia"]


def test_demote_last_owner__409_last_owner(world, owner, client_for):
    response = client_for(owner).put(
        "/worlds/alpha/members/olivia", {"role": "reader"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"


def test_delete_last_owner__409_last_owner(world, owner, client_for):
    response = client_for(owner).delete("/worlds/alpha/members/olivia")

    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"


def test_delete_owner__another_owner_exists__204_and_access_gone(world, owner, client_for):
    UserFactory(username="bob")
    client = client_for(owner)
    client.put("/worlds/alpha/members/bob", {"role": "owner"}, format="json")

    assert client.delete("/worlds/alpha/members/olivia").status_code == 204
    assert client.get("/worlds/alpha").status_code == 404


def test_delete_member__not_a_member__404(world, owner, client_for):
    UserFactory(username="bob")

    assert client_for(owner).delete("/worlds/alpha/members/bob").status_code == 404
