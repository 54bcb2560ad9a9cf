"""Governed world changes in the admin: the world form holds loosening saves; the change page
reviews them. The same services as the API, so the same rules, audit rows and events."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.factories import UserFactory, make_world, override_worldservice
from tests.governance.conftest import stored_state
from worlds.models import World, WorldAuditLog, WorldChange, WorldEvent
from worlds.roles import Role
from worlds.services.members import grant_role
from worlds.services.worlds import update_world

pytestmark = pytest.mark.django_db

WORLD_PAGE = "/admin/worlds/world/alpha/change/"


def _staff(username, *perms):
    user = UserFactory(username=username, is_staff=True)
    for dotted in perms:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def desk():
    owner, owner_client = _staff("olivia", "worlds.view_world", "worlds.change_world")
    reviewer, reviewer_client = _staff("rex", "policies.approve_worldpolicy")
    world = make_world(owner=owner, world_id="alpha", name="Alpha")
    return owner_client, reviewer_client, world


def _form(**changes):
    fields = {
        "name": "Alpha",
        "description": "",
        "labels": "[]",
        "state": "ACTIVE",
        "approvals_required": "1",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def _change_page(change):
    return f"/admin/worlds/worldchange/{change.pk}/change/"


def _held(owner_client, **changes):
    owner_client.post(WORLD_PAGE, _form(**changes))
    return WorldChange.objects.get()


# --- the world form -----------------------------------------------------------------------------


def test_world_form__lower_approvals__pending_change_page_with_message(desk):
    owner_client, _, _ = desk

    response = owner_client.post(WORLD_PAGE, _form(approvals_required="0"), follow=True)

    change = WorldChange.objects.get()
    assert response.redirect_chain[-1][0] == _change_page(change)
    assert response.status_code == 200
    assert b"Not saved yet" in response.content
    assert f"change #{change.pk}".encode() in response.content
    assert change.changes == {"approvals_required": 0}
    assert World.objects.get(pk="alpha").approvals_required == 1
    assert WorldAuditLog.objects.filter(event="world_change_requested", actor="olivia").exists()
    assert not WorldAuditLog.objects.filter(event="world_updated").exists()


def test_world_form__allow_live_on_with_a_rename__whole_save_held(desk):
    owner_client, _, _ = desk

    owner_client.post(WORLD_PAGE, _form(name="Alpha live", allow_live="on"))

    change = WorldChange.objects.get()
    assert change.changes == {"name": "Alpha live", "allow_live": True}
    stored = World.objects.get(pk="alpha")
    assert (stored.name, stored.allow_live) == ("Alpha", False)


def test_world_form__tightening__saved_at_once(desk):
    owner_client, _, _ = desk

    response = owner_client.post(WORLD_PAGE, _form(approvals_required="2", circuit_breaker="on"))

    assert response.status_code == 302
    assert response["Location"] == "/admin/worlds/world/"
    stored = World.objects.get(pk="alpha")
    assert (stored.approvals_required, stored.circuit_breaker) == (2, True)
    assert not WorldChange.objects.exists()


def test_world_form__below_floor__field_error_and_nothing_stored(desk):
    owner_client, _, _ = desk
    before = stored_state()

    with override_worldservice(MIN_APPROVALS=1):
        response = owner_client.post(WORLD_PAGE, _form(approvals_required="0"))

    assert response.status_code == 200
    assert b"WORLDSERVICE_MIN_APPROVALS=1" in response.content
    assert stored_state() == before


def test_world_add_form__below_floor__field_error_and_nothing_stored(desk):
    owner_client, _, _ = desk
    owner = World.objects.get(pk="alpha").owner
    owner.user_permissions.add(Permission.objects.get(codename="add_world"))

    with override_worldservice(MIN_APPROVALS=2):
        page = owner_client.get("/admin/worlds/world/add/")
        response = owner_client.post(
            "/admin/worlds/world/add/", {"id": "w2", **_form(approvals_required="1")}
        )

    assert b'name="approvals_required" value="2"' in page.content
    assert response.status_code == 200
    assert b"at least 2" in response.content
    assert not World.objects.filter(pk="w2").exists()


def test_world_form__staff_without_owner_role__read_only_page(desk):
    _, _, world = desk
    reader, reader_client = _staff("rita", "worlds.view_world", "worlds.change_world")
    grant_role(world=world, user=reader, role=Role.READER)

    page = reader_client.get(WORLD_PAGE)

    assert page.status_code == 200
    assert b'name="_save"' not in page.content


# --- the change page ----------------------------------------------------------------------------


def test_change_page__reviewer__table_of_old_and_new_and_buttons(desk):
    owner_client, reviewer_client, _ = desk
    change = _held(owner_client, approvals_required="0", allow_live="on")

    page = reviewer_client.get(_change_page(change))

    assert page.status_code == 200
    text = page.content.decode()
    assert '<th scope="row">approvals_required</th>' in text
    assert "<del>1</del>" in text and "<ins>0</ins>" in text
    assert "<del>false</del>" in text and "<ins>true</ins>" in text
    assert 'value="Approve"' in text and 'value="Reject"' in text
    assert 'value="Withdraw"' not in text
    assert "0 of 1 needed" in text


def test_change_page__requester__told_why_not_and_may_withdraw(desk):
    owner_client, _, _ = desk
    change = _held(owner_client, allow_live="on")

    page = owner_client.get(_change_page(change))

    text = page.content.decode()
    assert "You requested this change; another approver must review it." in text
    assert 'value="Approve"' not in text
    assert 'value="Withdraw"' in text


def test_change_page__staff_without_role_or_approval__not_shown(desk):
    owner_client, _, _ = desk
    change = _held(owner_client, allow_live="on")
    _, stranger = _staff("sam")

    listing = stranger.get("/admin/worlds/worldchange/")
    page = stranger.get(_change_page(change), follow=True)

    assert listing.status_code == 200
    assert b"alpha" not in listing.content.split(b'id="result_list"')[-1]
    assert page.redirect_chain[-1][0] == "/admin/worlds/worldchange/"
    assert b"no world change" in page.content


def test_approve_button__second_person__applied_with_audit_and_event(desk):
    owner_client, reviewer_client, _ = desk
    change = _held(owner_client, approvals_required="0")
    events = WorldEvent.objects.filter(world_id="alpha", type="world_updated").count()

    response = reviewer_client.post(
        f"{_change_page(change)[:-7]}approve/", {"comment": "fine for a sandbox"}, follow=True
    )

    assert b"it is applied to alpha" in response.content
    assert b"fine for a sandbox" in response.content
    change.refresh_from_db()
    assert change.status == "APPLIED"
    assert World.objects.get(pk="alpha").approvals_required == 0
    approved = WorldAuditLog.objects.get(event="world_change_approved")
    assert (approved.actor, approved.request["comment"]) == ("rex", "fine for a sandbox")
    assert WorldAuditLog.objects.filter(event="world_updated", actor="rex").exists()
    assert WorldEvent.objects.filter(world_id="alpha", type="world_updated").count() == events + 1


def test_reject_button__ends_the_change(desk):
    owner_client, reviewer_client, _ = desk
    change = _held(owner_client, allow_live="on")

    response = reviewer_client.post(
        f"/admin/worlds/worldchange/{change.pk}/reject/", {"comment": "no"}, follow=True
    )

    assert b"You rejected change" in response.content
    change.refresh_from_db()
    assert change.status == "REJECTED"
    assert World.objects.get(pk="alpha").allow_live is False


def test_approve_button__by_requester__message_and_nothing_stored(desk):
    owner_client, _, _ = desk
    owner = World.objects.get(pk="alpha").owner
    owner.user_permissions.add(Permission.objects.get(codename="approve_worldpolicy"))
    change = _held(owner_client, allow_live="on")
    before = stored_state()

    response = owner_client.post(f"/admin/worlds/worldchange/{change.pk}/approve/", follow=True)

    assert response.status_code == 200
    assert b"another approver must review it" in response.content
    assert stored_state() == before


def test_withdraw_button__requester_only(desk):
    owner_client, reviewer_client, _ = desk
    change = _held(owner_client, allow_live="on")
    before = stored_state()

    refused = reviewer_client.post(f"/admin/worlds/worldchange/{change.pk}/withdraw/", follow=True)
    assert b"who requested change" in refused.content
    assert stored_state() == before

    done = owner_client.post(f"/admin/worlds/worldchange/{change.pk}/withdraw/", follow=True)
    assert b"You withdrew change" in done.content
    change.refresh_from_db()
    assert change.status == "WITHDRAWN"


def test_buttons__finished_change__message_and_nothing_stored(desk):
    owner_client, reviewer_client, _ = desk
    change = _held(owner_client, allow_live="on")
    owner_client.post(f"/admin/worlds/worldchange/{change.pk}/withdraw/")
    before = stored_state()

    response = reviewer_client.post(f"/admin/worlds/worldchange/{change.pk}/approve/", follow=True)
    page = reviewer_client.get(_change_page(change))

    assert b"no longer PENDING" in response.content
    assert b"it can no longer be reviewed" in page.content
    assert stored_state() == before


def test_buttons__get_is_refused_and_changes_nothing(desk):
    owner_client, reviewer_client, _ = desk
    change = _held(owner_client, allow_live="on")

    response = reviewer_client.get(f"/admin/worlds/worldchange/{change.pk}/approve/")

    assert response.status_code == 405
    assert WorldChange.objects.get().status == "PENDING"


def test_changelist__filters_by_status_and_world(desk):
    owner_client, reviewer_client, world = desk
    owner = world.owner
    update_world(actor=owner, world_id="alpha", changes={"allow_live": True})
    update_world(actor=owner, world_id="alpha", changes={"approvals_required": 0})
    first = WorldChange.objects.order_by("id").first()
    owner_client.post(f"/admin/worlds/worldchange/{first.pk}/withdraw/")

    pending = reviewer_client.get("/admin/worlds/worldchange/?status__exact=PENDING")
    by_world = reviewer_client.get("/admin/worlds/worldchange/?world__id__exact=alpha")

    assert pending.status_code == 200
    assert pending.context["cl"].result_count == 1
    assert by_world.context["cl"].result_count == 2
