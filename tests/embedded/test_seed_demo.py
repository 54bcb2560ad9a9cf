"""`seed_demo` (what bin/demo runs) on the embedded default: a governed demo world and logins."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from policies.services.reviews import review_refusal
from worlds.models import World, WorldChange
from worlds.roles import Role, can_approve, world_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--base-url", "http://demo.test", stdout=out)
    return out.getvalue()


def _login(output: str, name: str) -> str:
    match = re.search(rf"login {name} / (\S+)", output)
    assert match, output
    return match.group(1)


def _sign_in(client: Client, name: str, password: str) -> bool:
    """Through the admin's login form, as a person would (and past the login lockout's
    backend, which needs the request)."""
    response = client.post(
        "/admin/login/", {"username": name, "password": password, "next": "/admin/"}
    )
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_seed_demo__governed_world_with_reviewed_default_and_two_staff_logins(var_dir):
    output = _seed()

    world = World.objects.get(pk="demo")
    assert world.approvals_required == 1
    assert world.default_policy_version == 1
    author = User.objects.get(username="author")
    reviewer = User.objects.get(username="reviewer")
    assert author.is_staff and reviewer.is_staff
    _assert_risk_staff_owner_and_reviewer(world, author, reviewer)
    for name in ("admin", "author", "reviewer"):
        assert _sign_in(Client(), name, _login(output, name))
    assert "http://demo.test/worlds/demo/decide" in output
    assert "Token" in output


def _assert_risk_staff_owner_and_reviewer(world, author, reviewer):
    assert world_role(author, "demo") == Role.OWNER
    assert world_role(reviewer, "demo") == Role.READER
    # Both are risk staff (approvers); the author may still never review their own version.
    assert {g.name for g in author.groups.all()} == {g.name for g in reviewer.groups.all()}
    assert {g.name for g in author.groups.all()} == {"Risk staff"}
    assert can_approve(reviewer, "demo")
    refusal = review_refusal(actor=author, policy=world.policies.get(version=1))
    assert refusal is not None and refusal.code == "self_approval"
    assert author.has_perm("policies.add_worldpolicy")
    assert world.policies.get(version=1).approvals.get().user == reviewer


def test_seed_demo__run_again__same_logins_and_nothing_duplicated(var_dir):
    first = _seed()
    second = _seed()

    for name in ("admin", "author", "reviewer"):
        assert _login(first, name) == _login(second, name)
    stored = json.loads((var_dir / "demo-credentials.json").read_text())
    assert set(stored["logins"]) == {"author", "reviewer"}
    assert World.objects.get(pk="demo").policies.count() == 1


def test_seed_demo__author_cannot_loosen_alone__pending_until_reviewer_approves(var_dir):
    output = _seed()
    author, reviewer = Client(), Client()
    assert _sign_in(author, "author", _login(output, "author"))
    assert _sign_in(reviewer, "reviewer", _login(output, "reviewer"))
    form = {
        "name": "Demo world",
        "description": "",
        "labels": '["demo"]',
        "state": "ACTIVE",
        "approvals_required": "0",
    }

    held = author.post("/admin/worlds/world/demo/change/", form)
    change = WorldChange.objects.get()
    assert held["Location"] == f"/admin/worlds/worldchange/{change.pk}/change/"
    assert World.objects.get(pk="demo").approvals_required == 1

    reviewer.post(f"/admin/worlds/worldchange/{change.pk}/approve/", {"comment": "ok"})

    assert World.objects.get(pk="demo").approvals_required == 0
