"""The admin as risk staff use it: upload, review, default and roll back, with the API's rules."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from policies.models import WorldPolicy
from tests.factories import UserFactory, make_world
from worlds.models import World, WorldAuditLog
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = pytest.mark.django_db

YAML = "selection:\n  gates: ['sharpe >= 0.7']\n"


def _staff(username: str, *perms: str):
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="policies", codename__in=perms)
    )
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def desk():
    # The author is an approver too: the rule against approving one's own version still holds.
    author, author_client = _staff(
        "rita", "view_worldpolicy", "add_worldpolicy", "change_worldpolicy", "approve_worldpolicy"
    )
    reviewer, reviewer_client = _staff(
        "rex", "view_worldpolicy", "change_worldpolicy", "approve_worldpolicy"
    )
    world = make_world(owner=author, world_id="desk")
    return author_client, reviewer_client, world


def _action(client, action, *versions):
    pks = [WorldPolicy.objects.get(world_id="desk", version=v).pk for v in versions]
    return client.post(
        "/admin/policies/worldpolicy/", {"action": action, "_selected_action": pks}, follow=True
    )


def test_admin_upload__valid_yaml__new_draft_and_audit(desk):
    author_client, _, _ = desk

    response = author_client.post(
        "/admin/policies/worldpolicy/add/", {"world": "desk", "yaml": YAML}
    )

    assert response.status_code == 302
    policy = WorldPolicy.objects.get(world_id="desk")
    assert (policy.version, policy.status, policy.yaml) == (1, "DRAFT", YAML)
    assert WorldAuditLog.objects.filter(event="policy_added", actor="rita").exists()


def test_admin_upload__invalid_yaml__form_error_with_path_and_nothing_stored(desk):
    author_client, _, _ = desk

    response = author_client.post(
        "/admin/policies/worldpolicy/add/",
        {"world": "desk", "yaml": "selection: {gates: ['sharpe >']}"},
    )

    assert response.status_code == 200
    assert b"selection.gates[0]" in response.content
    assert not WorldPolicy.objects.exists()


def test_admin_review_and_default__four_eyes_then_rollback(desk):
    author_client, reviewer_client, world = desk
    for version in (1, 2):
        author_client.post(
            "/admin/policies/worldpolicy/add/",
            {"world": "desk", "yaml": YAML.replace("0.7", f"0.{version}")},
        )

    self_approval = _action(author_client, "approve_versions", 1)
    assert b"another approver must review it" in self_approval.content
    _action(reviewer_client, "approve_versions", 1, 2)
    _action(author_client, "make_default", 1)
    _action(author_client, "make_default", 2)
    assert World.objects.get(pk="desk").default_policy_version == 2

    _action(author_client, "make_default", 1)  # roll back: no new review needed

    assert World.objects.get(pk="desk").default_policy_version == 1
    assert WorldPolicy.objects.get(world_id="desk", version=2).status == "DEPRECATED"


def test_admin_make_default__operator_only__refused(desk):
    author_client, reviewer_client, world = desk
    author_client.post("/admin/policies/worldpolicy/add/", {"world": "desk", "yaml": YAML})
    _action(reviewer_client, "approve_versions", 1)
    operator, operator_client = _staff("otto", "view_worldpolicy", "change_worldpolicy")
    grant_role(world=world, user=operator, role=Role.OPERATOR)

    response = _action(operator_client, "make_default", 1)

    assert b"needs the owner role" in response.content
    assert World.objects.get(pk="desk").default_policy_version is None


def test_admin_change_page__shows_yaml_and_diff(desk):
    author_client, _, _ = desk
    author_client.post("/admin/policies/worldpolicy/add/", {"world": "desk", "yaml": YAML})
    policy = WorldPolicy.objects.get(world_id="desk")

    page = author_client.get(f"/admin/policies/worldpolicy/{policy.pk}/change/")

    assert page.status_code == 200
    assert b"sharpe &gt;= 0.7" in page.content
    assert b"+++ v1" in page.content
