"""The staff groups come from data migrations, with the permissions docs/admin.md lists."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from worldservice.staff_groups import AUDITORS, OPERATORS, RISK_STAFF

pytestmark = pytest.mark.django_db


def _permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_groups__after_migrate__exist_with_their_permissions():
    assert _permissions(RISK_STAFF) == {
        "policies.view_worldpolicy",
        "policies.add_worldpolicy",
        "policies.approve_worldpolicy",
        "worlds.view_world",
    }
    assert _permissions(AUDITORS) == {"worlds.view_worldauditlog"}
    assert _permissions(OPERATORS) == {
        "worlds.view_world",
        "policies.view_worldpolicy",
        "activation.view_activationsnapshot",
        "activation.view_applyrun",
    }


def test_groups__grant_no_world_role(desk):
    from worlds.roles import visible_worlds, world_role

    # Groups let people into the admin pages; what they may do on a world is their role on it.
    assert world_role(desk.rex.user, "desk") is None
    assert world_role(desk.aude.user, "desk") is None
    assert not visible_worlds(desk.rex.user).exists()
