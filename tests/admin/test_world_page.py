"""A world's admin page: it links everything about the world, manages members through the
members service, and per-world roles decide who sees and changes what."""

from __future__ import annotations

import pytest

from worlds.models import World, WorldAuditLog
from worlds.selectors import list_members

pytestmark = pytest.mark.django_db

PAGE = "admin:worlds_world_change"
MEMBERS = "admin:worlds_world_members"
LIST = "admin:worlds_world_changelist"


def _members() -> dict[str, str]:
    return {member["user"]: member["role"] for member in list_members("desk")}


def test_world_page__owner__links_versions_reviews_audit_members(desk):
    page = desk.olga.get(PAGE, "desk")

    text = page.content.decode()
    assert page.status_code == 200
    _assert_links_to_the_worlds_pages(text)
    assert 'value="Add member"' in text and 'value="Remove"' in text
    assert page.context["has_change_permission"] is True


def _assert_links_to_the_worlds_pages(text):
    assert 'href="/admin/policies/worldpolicy/?world__id__exact=desk">Policy versions' in text
    assert '?world__id__exact=desk&amp;status__exact=DRAFT">Pending reviews' in text
    assert 'href="/admin/worlds/worldauditlog/?world__id__exact=desk">Audit trail' in text
    assert 'href="#members">Members' in text
    assert 'href="/admin/policies/worldpolicy/desk/new/">New version' in text
    assert '?world__id__exact=desk&amp;status__exact=PENDING">Pending world changes' in text
    assert 'href="/admin/activation/activationcounter/console/desk/">Activation console' in text


def test_world_page__operator__reads_members_but_no_forms(desk):
    page = desk.otto.get(PAGE, "desk")

    text = page.content.decode()
    assert page.status_code == 200
    assert "otto" in text and "rita" in text
    assert 'value="Add member"' not in text
    assert "Only the world's owners change its members; you are operator." in text
    assert page.context["has_change_permission"] is False


def test_world_page__no_role__not_shown_no_json(desk):
    response = desk.rex.get(PAGE, "desk", follow=True)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "doesn’t exist" in response.content.decode()


def test_world_list__shows_only_worlds_with_a_role(desk):
    from tests.factories import make_world

    make_world(owner=desk.rita.user, world_id="private")

    otto = desk.otto.get(LIST).context["cl"].result_list
    rex = desk.rex.get(LIST).context["cl"].result_list

    assert [world.id for world in otto] == ["desk"]
    assert list(rex) == []
    assert desk.aude.get(LIST).status_code == 403
    assert desk.pat.get(LIST).status_code == 403


def test_world_edit__operator__refused_and_world_unchanged(desk):
    response = desk.otto.post(PAGE, "desk", data={"name": "Renamed"})

    assert response.status_code == 403
    assert World.objects.get(pk="desk").name == "Desk"


def test_members__owner_adds_changes_and_removes__audited(desk):
    add = desk.olga.post(
        MEMBERS, "desk", data={"action": "set", "username": "pat", "role": "reader"}, follow=True
    )
    assert "pat is reader of desk." in [str(m) for m in add.context["messages"]]
    assert _members()["pat"] == "reader"

    desk.olga.post(MEMBERS, "desk", data={"action": "set", "username": "pat", "role": "operator"})
    assert _members()["pat"] == "operator"

    desk.olga.post(MEMBERS, "desk", data={"action": "remove", "username": "pat"})
    assert "pat" not in _members()

    changes = WorldAuditLog.objects.filter(event="member_changed", actor="olga")
    assert [row.result["after"] for row in changes.order_by("id")] == ["reader", "operator", None]


def test_members__last_owner__refused_and_kept(desk):
    desk.olga.post(MEMBERS, "desk", data={"action": "remove", "username": "rita"})
    audit_rows = WorldAuditLog.objects.count()

    response = desk.olga.post(
        MEMBERS, "desk", data={"action": "set", "username": "olga", "role": "reader"}, follow=True
    )

    assert "This is the world's last owner; make someone else owner first." in [
        str(m) for m in response.context["messages"]
    ]
    assert _members()["olga"] == "owner"
    assert WorldAuditLog.objects.count() == audit_rows


def test_members__unknown_user_or_no_role__readable_refusal_nothing_stored(desk):
    audit_rows = WorldAuditLog.objects.count()

    unknown = desk.olga.post(
        MEMBERS, "desk", data={"action": "set", "username": "nobody", "role": "reader"}, follow=True
    )
    no_role = desk.olga.post(
        MEMBERS, "desk", data={"action": "set", "username": "pat"}, follow=True
    )

    assert "User 'nobody' does not exist." in [str(m) for m in unknown.context["messages"]]
    assert "Choose a role: reader, operator or owner." in [
        str(m) for m in no_role.context["messages"]
    ]
    assert WorldAuditLog.objects.count() == audit_rows


@pytest.mark.parametrize("who", ["otto", "rex", "pat"])
def test_members__not_an_owner__refused_nothing_changes(desk, who):
    before = _members()

    getattr(desk, who).post(
        MEMBERS, "desk", data={"action": "set", "username": who, "role": "owner"}, follow=True
    )

    assert _members() == before
    assert not WorldAuditLog.objects.filter(event="member_changed").exists()
