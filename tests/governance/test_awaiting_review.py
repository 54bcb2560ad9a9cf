"""`world_changes_awaiting_review(user)`: what the admin home lists under "Awaiting my review"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from tests.factories import UserFactory, make_world
from tests.governance.conftest import APPROVER
from worlds.models import ReviewDecision, World, WorldUserObjectPermission
from worlds.roles import Role
from worlds.selectors import world_changes_awaiting_review
from worlds.services.changes import review_world_change, withdraw_world_change
from worlds.services.members import grant_role
from worlds.services.worlds import update_world

pytestmark = pytest.mark.django_db


def _held(owner, world_id, **changes):
    change = update_world(actor=owner, world_id=world_id, changes=changes).pending
    assert change is not None
    return change


@pytest.fixture
def worlds(owner):
    make_world(owner=owner, world_id="alpha", approvals_required=2)
    make_world(owner=owner, world_id="beta")
    return owner


def test_awaiting__global_approver__pending_changes_of_others_oldest_first(worlds, approver):
    owner = worlds
    first = _held(owner, "beta", allow_live=True)
    second = _held(owner, "alpha", allow_live=True)
    third = _held(owner, "alpha", approvals_required=1)
    withdraw_world_change(actor=owner, world_id="alpha", change_id=third.id)
    approver.user_permissions.add(Permission.objects.get(codename="add_world"))
    make_world(owner=approver, world_id="own")
    _held(approver, "own", allow_live=True)  # requested by the approver themselves

    ids = [change.id for change in world_changes_awaiting_review(approver)]

    assert ids == [first.id, second.id]


def test_awaiting__already_reviewed__left_out(worlds, approver, second_approver):
    change = _held(worlds, "alpha", allow_live=True)  # needs two approvals
    review_world_change(
        actor=approver, world_id="alpha", change_id=change.id, decision=ReviewDecision.APPROVE
    )

    assert list(world_changes_awaiting_review(approver)) == []
    assert [c.id for c in world_changes_awaiting_review(second_approver)] == [change.id]


def test_awaiting__world_scoped_approver__only_that_world(worlds):
    on_beta = _held(worlds, "beta", allow_live=True)
    _held(worlds, "alpha", allow_live=True)
    scoped = UserFactory(username="sid")
    WorldUserObjectPermission.objects.create(
        content_object_id="beta",
        user=scoped,
        permission=Permission.objects.get(codename="approve_policies"),
    )

    assert [c.id for c in world_changes_awaiting_review(scoped)] == [on_beta.id]


def test_awaiting__no_approver_permission__nothing(worlds):
    _held(worlds, "alpha", allow_live=True)
    co_owner = UserFactory(username="cody")
    grant_role(world=World.objects.get(pk="alpha"), user=co_owner, role=Role.OWNER)

    assert list(world_changes_awaiting_review(co_owner)) == []
    assert list(world_changes_awaiting_review(AnonymousUser())) == []
    assert list(world_changes_awaiting_review(worlds)) == []  # the requester


def test_awaiting__inactive_approver__nothing(worlds):
    _held(worlds, "alpha", allow_live=True)
    retired = UserFactory(username="ret", is_active=False, permissions=[APPROVER])

    assert list(world_changes_awaiting_review(retired)) == []


def test_awaiting__queries_do_not_grow_with_changes(
    worlds, approver, django_assert_max_num_queries
):
    for _ in range(5):
        _held(worlds, "alpha", allow_live=True)

    with django_assert_max_num_queries(6):
        changes = list(world_changes_awaiting_review(approver))
        for change in changes:
            assert change.requested_by.username == "olivia"
            assert change.world.id == "alpha"
            list(change.approvals.all())
    assert len(changes) == 5
