"""Four-eyes approval, set-default and rollback."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from policies.models import PolicyApproval, WorldPolicy
from tests.factories import UserFactory
from worlds.models import World, WorldAuditLog, WorldEvent, WorldUserObjectPermission

pytestmark = pytest.mark.django_db

YAML_V = "selection:\n  gates: ['sharpe >= {}']\n"


@pytest.fixture
def approver():
    return UserFactory(username="arnold", permissions=["policies.approve_worldpolicy"])


@pytest.fixture
def draft(world, owner, client_for):
    client_for(owner).post("/worlds/alpha/policies", {"yaml": YAML_V.format(1)}, format="json")
    return WorldPolicy.objects.get(world=world, version=1)


def _approve(client, version=1, verb="approve"):
    return client.post(f"/worlds/alpha/policies/{version}/{verb}", {"comment": "ok"}, format="json")


def test_approve__global_approver_without_role__200_and_audited(draft, approver, client_for):
    response = _approve(client_for(approver))

    assert response.status_code == 200
    assert response.json()["decision"] == "approve"
    assert WorldAuditLog.objects.filter(event="policy_approved", world_id="alpha").exists()


def test_global_approver__may_read_policies_without_role(draft, approver, client_for):
    client = client_for(approver)

    assert client.get("/worlds/alpha/policies").status_code == 200
    assert client.get("/worlds/alpha/policies/1").status_code == 200
    assert client.get("/worlds/alpha").status_code == 404  # but not the rest of the world


def test_approve__object_level_approver_on_world__200(draft, client_for):
    reviewer = UserFactory()
    WorldUserObjectPermission.objects.create(
        user=reviewer,
        content_object_id="alpha",
        permission=Permission.objects.get(codename="approve_policies"),
    )

    assert _approve(client_for(reviewer)).status_code == 200


def test_approve__author_who_is_approver__403_self_approval(draft, owner, client_for):
    owner.user_permissions.add(Permission.objects.get(codename="approve_worldpolicy"))

    response = _approve(client_for(owner))

    assert response.status_code == 403
    assert response.json()["code"] == "self_approval"
    assert not PolicyApproval.objects.exists()


def test_approve__author_superuser__403_self_approval(world, client_for):
    root = UserFactory(is_superuser=True)
    client = client_for(root)
    client.post("/worlds/alpha/policies", {"yaml": YAML_V.format(1)}, format="json")

    response = _approve(client)

    assert response.status_code == 403
    assert response.json()["code"] == "self_approval"


def test_approve__owner_without_permission__403(draft, world, member, client_for):
    other_owner = member("owner")

    assert _approve(client_for(other_owner)).status_code == 403


def test_approve__no_role_no_permission__404(draft, client_for):
    assert _approve(client_for(UserFactory())).status_code == 404


def test_approve__twice__409(draft, approver, client_for):
    client = client_for(approver)
    _approve(client)

    response = _approve(client, verb="reject")

    assert response.status_code == 409
    assert PolicyApproval.objects.count() == 1


def test_set_default__too_few_approvals__409_approval_required(draft, owner, client_for):
    response = client_for(owner).post("/worlds/alpha/set-default", {"version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "approval_required"
    assert World.objects.get(pk="alpha").default_policy_version is None


def test_set_default__approved__active_event_and_audit(draft, owner, approver, client_for):
    _approve(client_for(approver))

    response = client_for(owner).post("/worlds/alpha/set-default", {"version": 1}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ACTIVE"
    assert World.objects.get(pk="alpha").default_policy_version == 1
    assert WorldEvent.objects.filter(world_id="alpha", type="policy_updated").count() == 1
    assert WorldAuditLog.objects.filter(world_id="alpha", event="policy_default_set").count() == 1


def test_set_default__query_parameter_form(draft, owner, approver, client_for):
    _approve(client_for(approver))

    assert client_for(owner).post("/worlds/alpha/set-default?v=1").status_code == 200


def test_set_default__rejected_version__409(draft, owner, approver, client_for):
    _approve(client_for(approver), verb="reject")

    response = client_for(owner).post("/worlds/alpha/set-default", {"version": 1}, format="json")

    assert response.status_code == 409


def test_set_default__unknown_version__404(world, owner, client_for):
    response = client_for(owner).post("/worlds/alpha/set-default", {"version": 5}, format="json")

    assert response.status_code == 404


def test_set_default__unknown_world__404(owner, client_for):
    response = client_for(owner).post("/worlds/ghost/set-default", {"version": 1}, format="json")

    assert response.status_code == 404


def test_set_default__operator__403(draft, member, client_for):
    response = client_for(member("operator")).post(
        "/worlds/alpha/set-default", {"version": 1}, format="json"
    )

    assert response.status_code == 403


def test_set_default__stale_if_match__412(draft, owner, approver, client_for):
    _approve(client_for(approver))

    response = client_for(owner).post(
        "/worlds/alpha/set-default",
        {"version": 1},
        format="json",
        HTTP_IF_MATCH='"world:alpha:999"',
    )

    assert response.status_code == 412


def test_rollback__previously_active_version__immediate(world, owner, approver, client_for):
    owner_client, approver_client = client_for(owner), client_for(approver)
    for version in (1, 2):
        owner_client.post("/worlds/alpha/policies", {"yaml": YAML_V.format(version)}, format="json")
        _approve(approver_client, version)
        owner_client.post("/worlds/alpha/set-default", {"version": version}, format="json")
    assert WorldPolicy.objects.get(world=world, version=1).status == "DEPRECATED"

    response = owner_client.post("/worlds/alpha/set-default", {"version": 1}, format="json")

    assert response.status_code == 200
    statuses = dict(WorldPolicy.objects.values_list("version", "status"))
    assert statuses == {1: "ACTIVE", 2: "DEPRECATED"}
    assert World.objects.get(pk="alpha").default_policy_version == 1
    last = WorldAuditLog.objects.filter(event="policy_default_set").order_by("-id").first()
    assert last.result["rollback"] is True


def test_approvals_listed_on_version(draft, approver, client_for):
    _approve(client_for(approver))

    approvals = client_for(approver).get("/worlds/alpha/policies/1").json()["approvals"]

    assert approvals[0]["user"] == "arnold"
    assert approvals[0]["comment"] == "ok"
