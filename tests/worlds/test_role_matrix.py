"""NetBox-style access matrix: every world route × anonymous, no role, reader, operator, owner.

No credential is 401; no role on the world is 404 (its existence is not leaked); a role that is
too low is 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "none", "reader", "operator", "owner")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: Any
    allowed: dict[str, int]  # role → status when allowed; missing roles get the default refusal
    least_role: str

    def expected(self, role: str) -> int:
        if role == "anonymous":
            return 401
        if role == "none":
            return 404
        order = ROLES[2:]
        return self.allowed[role] if order.index(role) >= order.index(self.least_role) else 403


def _route(method: str, path: str, least_role: str, ok: int = 200, body: Any = None) -> Route:
    return Route(method, path, body, {role: ok for role in ROLES[2:]}, least_role)


ROUTES = [
    _route("get", "/worlds/alpha", "reader"),
    _route("put", "/worlds/alpha", "owner", body={"name": "Alpha 2"}),
    _route("patch", "/worlds/alpha", "owner", body={"description": "d"}),
    _route("delete", "/worlds/alpha", "owner", ok=204),
    _route("get", "/worlds/alpha/describe", "reader"),
    _route("get", "/worlds/alpha/policy/state_hash", "reader"),
    _route("get", "/worlds/alpha/activation/state_hash", "reader"),
    _route("get", "/worlds/alpha/strategies/s1/runs", "reader"),
    _route("get", "/worlds/alpha/members", "reader"),
    _route("put", "/worlds/alpha/members/bystander", "owner", body={"role": "reader"}),
    _route("get", "/worlds/alpha/audit", "reader"),
    _route("get", "/worlds/alpha/policies", "reader"),
    _route("get", "/worlds/alpha/policies/1", "reader"),
    _route("get", "/worlds/alpha/policies/1/diff", "reader"),
    _route("post", "/worlds/alpha/policies", "owner", ok=201, body={"preset": "sandbox"}),
    # allowed, but version 1 has no approvals yet: the owner reaches the approval check
    _route("post", "/worlds/alpha/set-default", "owner", ok=409, body={"version": 1}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_world_route__role__expected_status(world, owner, member, client_for, route, role):
    UserFactory(username="bystander")
    upload_policy(actor=owner, world_id="alpha", source=PolicySource(preset="sandbox"))
    user = None if role == "anonymous" else member(role)

    response = getattr(client_for(user), route.method)(route.path, route.body, format="json")

    assert response.status_code == route.expected(role), response.content
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"detail", "code"}


@pytest.mark.parametrize("role", ROLES)
def test_delete_member__role__expected_status(world, member, client_for, role):
    target = member("reader")
    user = None if role == "anonymous" else member(role)
    expected = {"anonymous": 401, "none": 404, "reader": 403, "operator": 403, "owner": 204}

    response = client_for(user).delete(f"/worlds/alpha/members/{target.username}")

    assert response.status_code == expected[role]


def test_unknown_world__any_role__404_same_as_no_role(owner, client_for):
    assert client_for(owner).get("/worlds/nowhere").status_code == 404


def test_superuser__world_without_grant__full_access(world, client_for):
    admin = UserFactory(is_superuser=True)

    assert client_for(admin).patch("/worlds/alpha", {"name": "x"}, format="json").status_code == 200


def test_auditor_endpoints__need_view_worldauditlog(world, owner, client_for):
    auditor = UserFactory(permissions=["worlds.view_worldauditlog"])

    assert client_for(None).get("/audit").status_code == 401
    assert client_for(owner).get("/audit").status_code == 403
    assert client_for(owner).get("/audit/verify").status_code == 403
    assert client_for(auditor).get("/audit").status_code == 200
    assert client_for(auditor).get("/audit/verify").status_code == 200
