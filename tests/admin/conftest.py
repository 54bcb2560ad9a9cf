"""The people of the review console, each with a logged-in Django test client.

- rita: Risk staff and an owner of world `desk`: writes versions (and may not approve her own).
- rex: Risk staff, no role on `desk`: a global approver who reviews other people's versions.
- olga: an owner of `desk` (she created it) who is not an approver; in the Operators group, which
  lets her into the world and policy pages. She sets the default and rolls back.
- otto: Operators group and the operator role on `desk`.
- aude: Auditors group.
- pat: staff, no group, no role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from policies.models import ReviewDecision, WorldPolicy
from policies.services.defaults import set_default_version
from policies.services.reviews import review_policy
from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world
from worlds.models import World
from worlds.roles import Role
from worlds.services.members import grant_role
from worldservice.staff_groups import AUDITORS, OPERATORS, RISK_STAFF

YAML = "selection:\n  gates: ['sharpe >= 0.5']\n"


@dataclass
class Person:
    user: Any
    client: Client

    def get(self, name: str, *args: Any, query: str = "", **kwargs: Any) -> Any:
        return self.client.get(reverse(name, args=args) + query, **kwargs)

    def post(self, name: str, *args: Any, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client.post(reverse(name, args=args), data or {}, **kw)


def person(username: str, *groups: str) -> Person:
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    client = Client()
    client.force_login(user)
    return Person(user, client)


@dataclass
class Desk:
    world: World
    rita: Person
    rex: Person
    olga: Person
    otto: Person
    aude: Person
    pat: Person

    def upload(self, text: str = YAML, by: Person | None = None) -> WorldPolicy:
        return upload_policy(
            actor=(by or self.rita).user, world_id=self.world.id, source=PolicySource(text=text)
        )

    def approve(self, policy: WorldPolicy) -> None:
        review_policy(
            actor=self.rex.user,
            world_id=self.world.id,
            version=policy.version,
            decision=ReviewDecision.APPROVE,
            comment="looks right",
        )

    def make_default(self, policy: WorldPolicy) -> None:
        set_default_version(actor=self.olga.user, world_id=self.world.id, version=policy.version)

    def refresh(self) -> World:
        self.world.refresh_from_db()
        return self.world


@pytest.fixture
def desk(db: None) -> Desk:
    olga = person("olga", OPERATORS)
    world = make_world(owner=olga.user, world_id="desk", approvals_required=1)
    rita = person("rita", RISK_STAFF)
    otto = person("otto", OPERATORS)
    grant_role(world=world, user=rita.user, role=Role.OWNER)
    grant_role(world=world, user=otto.user, role=Role.OPERATOR)
    return Desk(
        world=world,
        rita=rita,
        rex=person("rex", RISK_STAFF),
        olga=olga,
        otto=otto,
        aude=person("aude", AUDITORS),
        pat=person("pat"),
    )
