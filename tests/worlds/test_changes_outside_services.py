"""Users, groups and grants edited directly (the admin, guardian's helpers) take effect at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm, remove_perm
from rest_framework.test import APIClient

from tests.factories import UserFactory, make_world, token_for

pytestmark = pytest.mark.django_db

DECIDE = "/worlds/hot/decide"


@pytest.fixture
def world(owner):
    return make_world(owner=owner, world_id="hot")


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


def _warm(client: APIClient, expected: int) -> None:
    for _ in range(2):  # the second answer comes from the process's copies
        assert client.get(DECIDE).status_code == expected


def test_user_deactivated__token_refused_at_once(world, owner):
    client = _client(owner)
    _warm(client, 200)

    owner.is_active = False
    owner.save()

    assert client.get(DECIDE).status_code == 401


def test_superuser_flag_removed__role_gone_at_once(world):
    admin = UserFactory(username="root", is_superuser=True)
    client = _client(admin)
    _warm(client, 200)

    admin.is_superuser = False
    admin.save()

    assert client.get(DECIDE).status_code == 404


def test_user_joins_group_with_a_world_grant__role_at_once(world):
    readers = Group.objects.create(name="readers")
    assign_perm("view_world", readers, world)
    user = UserFactory(username="gateway")
    client = _client(user)
    _warm(client, 404)

    user.groups.add(readers)

    assert client.get(DECIDE).status_code == 200


def test_user_leaves_group__role_gone_at_once(world):
    readers = Group.objects.create(name="readers")
    assign_perm("view_world", readers, world)
    user = UserFactory(username="gateway")
    user.groups.add(readers)
    client = _client(user)
    _warm(client, 200)

    readers.user_set.clear()

    assert client.get(DECIDE).status_code == 404


def test_group_grant_removed__members_lose_the_role_at_once(world):
    readers = Group.objects.create(name="readers")
    assign_perm("view_world", readers, world)
    user = UserFactory(username="gateway")
    user.groups.add(readers)
    client = _client(user)
    _warm(client, 200)

    remove_perm("view_world", readers, world)

    assert client.get(DECIDE).status_code == 404


def test_user_grant_made_with_guardian__role_at_once(world):
    user = UserFactory(username="gateway")
    client = _client(user)
    _warm(client, 404)

    assign_perm("view_world", user, world)

    assert client.get(DECIDE).status_code == 200


def test_login_only__cached_lookups_kept(world, owner, monkeypatch):
    from django.contrib.auth.models import update_last_login

    client = _client(owner)
    _warm(client, 200)
    forgotten: list[int] = []
    monkeypatch.setattr("worlds.signals.forget_user_tokens", forgotten.append)

    update_last_login(None, owner)

    assert forgotten == []


def test_world_created_after_a_superuser_looked__visible_at_once(owner):
    admin = UserFactory(username="root", is_superuser=True)
    client = _client(admin)
    _warm(client, 404)  # "no such world" is cached too

    make_world(owner=owner, world_id="hot")

    assert client.get(DECIDE).status_code == 200
