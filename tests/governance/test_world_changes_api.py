"""Governed world changes through the API (docs/api.md, "Governed world changes").

The four-eyes bypass from issue 10, replayed: an owner may no longer lower `approvals_required`,
promote an unreviewed version and raise it again alone, nor turn `allow_live` on alone.
"""

from __future__ import annotations

import pytest

from policies.models import WorldPolicy
from tests.factories import UserFactory
from tests.governance.conftest import APPROVER
from worlds.models import World, WorldAuditLog, WorldChange, WorldChangeApproval, WorldEvent

pytestmark = pytest.mark.django_db

YAML = "selection:\n  gates: ['sharpe >= 0.7']\n"


def _patch(client, body, **headers):
    return client.patch("/worlds/alpha", body, format="json", **headers)


def _change_url(change_id, action=""):
    return f"/worlds/alpha/changes/{change_id}" + (f"/{action}" if action else "")


def _hold(client_for, owner, body):
    response = _patch(client_for(owner), body)
    assert response.status_code == 202, response.json()
    return response.json()["id"]


def _events(event):
    return list(WorldAuditLog.objects.filter(world_id="alpha", event=event).order_by("id"))


# --- the bypass, replayed -----------------------------------------------------------------


def test_lower_approvals__governed_world__202_pending_and_nothing_changed(world, owner, client_for):
    client = client_for(owner)
    etag = client.get("/worlds/alpha")["ETag"]
    events_before = WorldEvent.objects.count()

    response = _patch(client, {"approvals_required": 0}, HTTP_IF_MATCH=etag)

    assert response.status_code == 202
    change = WorldChange.objects.get()
    assert response["Location"] == f"/worlds/alpha/changes/{change.id}"
    assert "ETag" not in response
    _assert_pending_lowering(response.json(), change)
    _assert_nothing_changed(client, etag, events_before)
    _assert_request_audited(change)


def _assert_pending_lowering(body, change):
    assert set(body) == {
        "id",
        "world_id",
        "changes",
        "previous",
        "requested_by",
        "requested_at",
        "status",
        "approvals",
        "approvals_required",
        "decided_at",
    }
    assert body["id"] == change.id
    assert body["world_id"] == "alpha"
    _assert_lowering_values(body)


def _assert_lowering_values(body):
    assert body["changes"] == {"approvals_required": 0}
    assert body["previous"] == {"approvals_required": 1}
    assert body["requested_by"] == "olivia"
    assert body["requested_at"].endswith("Z")
    assert body["status"] == "PENDING"
    assert body["approvals"] == []
    assert body["approvals_required"] == 1
    assert body["decided_at"] is None


def _assert_nothing_changed(client, etag, events_before):
    stored = World.objects.get(pk="alpha")
    assert (stored.approvals_required, stored.revision) == (1, 1)
    assert client.get("/worlds/alpha")["ETag"] == etag  # the held request changed nothing
    assert WorldEvent.objects.count() == events_before


def _assert_request_audited(change):
    [requested] = _events("world_change_requested")
    assert requested.actor == "olivia"
    assert requested.result["change_id"] == change.id
    assert requested.result["changes"] == {"approvals_required": 0}
    assert not _events("world_updated")


def test_bypass_replayed__set_default_of_unreviewed_version_still_409(world, owner, client_for):
    client = client_for(owner)
    client.post("/worlds/alpha/policies", {"yaml": YAML}, format="json")
    assert _patch(client, {"approvals_required": 0}).status_code == 202

    response = client.post("/worlds/alpha/set-default", {"version": 1}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "approval_required"
    assert World.objects.get(pk="alpha").default_policy_version is None
    assert WorldPolicy.objects.get(world_id="alpha", version=1).status == "DRAFT"


def test_allow_live_on__governed_world__202_pending(world, owner, client_for):
    response = _patch(client_for(owner), {"allow_live": True})

    assert response.status_code == 202
    assert response.json()["changes"] == {"allow_live": True}
    assert response.json()["previous"] == {"allow_live": False}
    assert World.objects.get(pk="alpha").allow_live is False


def test_put_full_body__loosening__held_whole_with_only_changed_fields(world, owner, client_for):
    client = client_for(owner)
    body = client.get("/worlds/alpha").json() | {"name": "Alpha live", "allow_live": True}

    response = client.put("/worlds/alpha", body, format="json")

    assert response.status_code == 202
    assert response.json()["changes"] == {"name": "Alpha live", "allow_live": True}
    assert response.json()["previous"] == {"name": "Alpha", "allow_live": False}
    assert World.objects.get(pk="alpha").name == "Alpha"


def test_mixed_request__loosening_and_ordinary_fields__whole_request_held(world, owner, client_for):
    response = _patch(
        client_for(owner),
        {"name": "Renamed", "circuit_breaker": True, "approvals_required": 0},
    )

    assert response.status_code == 202
    assert response.json()["changes"] == {
        "name": "Renamed",
        "circuit_breaker": True,
        "approvals_required": 0,
    }
    stored = World.objects.get(pk="alpha")
    assert (stored.name, stored.circuit_breaker, stored.approvals_required) == (
        "Alpha",
        False,
        1,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"approvals_required": 3},
        {"allow_live": False},
        {"circuit_breaker": True},
        {"name": "Alpha 2", "labels": ["fx"]},
        {"approvals_required": 1, "allow_live": False},  # the same values: nothing loosens
    ],
)
def test_tightening_and_ordinary_fields__apply_at_once_200(world, owner, client_for, body):
    response = _patch(client_for(owner), body)

    assert response.status_code == 200, response.json()
    assert not WorldChange.objects.exists()
    assert not _events("world_change_requested")


def test_tightening__raise_approvals__applied_with_new_etag(world, owner, client_for):
    response = _patch(client_for(owner), {"approvals_required": 2})

    assert response.status_code == 200
    assert response["ETag"] == '"world:alpha:2"'
    assert World.objects.get(pk="alpha").approvals_required == 2


def test_ungoverned_world__loosening_applies_at_once(owner, client_for):
    client = client_for(owner)
    client.post("/worlds", {"id": "free", "name": "Free", "approvals_required": 0}, format="json")

    response = client.patch("/worlds/free", {"allow_live": True}, format="json")

    assert response.status_code == 200
    assert World.objects.get(pk="free").allow_live is True
    assert not WorldChange.objects.exists()


def test_held_request__stale_if_match__412_and_nothing_held(world, owner, client_for, unchanged):
    client = client_for(owner)
    unchanged.before()

    response = _patch(client, {"allow_live": True}, HTTP_IF_MATCH='"world:alpha:99"')

    assert response.status_code == 412
    unchanged.check()


def test_held_request__invalid_field__400_and_nothing_held(world, owner, client_for, unchanged):
    client = client_for(owner)
    unchanged.before()

    response = _patch(client, {"allow_live": True, "name": ""})

    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    unchanged.check()


@pytest.mark.parametrize("role", ["reader", "operator"])
def test_loosening__below_owner__403_and_nothing_held(world, member, client_for, unchanged, role):
    client = client_for(member(role))
    unchanged.before()

    response = _patch(client, {"allow_live": True})

    assert response.status_code == 403
    unchanged.check()


# --- approving, rejecting, withdrawing --------------------------------------------------------


def test_approve__by_requester__403_self_approval_and_nothing_stored(
    world, owner, client_for, unchanged
):
    change_id = _hold(client_for, owner, {"approvals_required": 0})
    client = client_for(owner)
    unchanged.before()

    response = client.post(_change_url(change_id, "approve"), {}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "self_approval"
    unchanged.check()


def test_approve__requester_is_superuser_and_approver__still_403_self_approval(
    world, client_for, unchanged
):
    boss = UserFactory(username="boss", is_superuser=True, permissions=[APPROVER])
    response = client_for(boss).patch("/worlds/alpha", {"allow_live": True}, format="json")
    change_id = response.json()["id"]
    client = client_for(boss)
    unchanged.before()

    refused = client.post(_change_url(change_id, "approve"), {}, format="json")

    assert refused.status_code == 403
    assert refused.json()["code"] == "self_approval"
    unchanged.check()


def test_approve__second_person__applied_with_audit_rows_and_event(
    world, owner, approver, client_for
):
    change_id = _hold(client_for, owner, {"approvals_required": 0, "name": "Alpha free"})
    events_before = WorldEvent.objects.filter(world_id="alpha", type="world_updated").count()

    response = client_for(approver).post(
        _change_url(change_id, "approve"), {"comment": "ok, a sandbox"}, format="json"
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "APPLIED"
    assert body["decided_at"].endswith("Z")
    assert [(a["user"], a["decision"], a["comment"]) for a in body["approvals"]] == [
        ("abby", "approve", "ok, a sandbox")
    ]
    stored = World.objects.get(pk="alpha")
    assert (stored.approvals_required, stored.name, stored.revision) == (0, "Alpha free", 2)
    _assert_applied_by_the_approver(change_id, events_before)


def _assert_applied_by_the_approver(change_id, events_before):
    [approved] = _events("world_change_approved")
    assert approved.actor == "abby"
    assert approved.result == {
        "decision": "approve",
        "approvals": 1,
        "approvals_required": 1,
        "status": "APPLIED",
    }
    [updated] = _events("world_updated")
    assert updated.actor == "abby"
    assert updated.result["change_id"] == change_id
    assert updated.result["changed"] == ["approvals_required", "name"]
    assert updated.id > approved.id
    events = WorldEvent.objects.filter(world_id="alpha", type="world_updated")
    assert events.count() == events_before + 1
    assert events.order_by("-seq").first().data["allow_live"] is False


def test_approve__snapshot_of_two__first_approval_keeps_it_pending(
    owner, approver, second_approver, client_for
):
    client = client_for(owner)
    client.post("/worlds", {"id": "alpha", "name": "A", "approvals_required": 2}, format="json")
    change_id = _hold(client_for, owner, {"allow_live": True})
    client.patch("/worlds/alpha", {"approvals_required": 3}, format="json")  # tightening, later

    first = client_for(approver).post(_change_url(change_id, "approve"), {}, format="json")
    assert first.json()["status"] == "PENDING"
    assert World.objects.get(pk="alpha").allow_live is False
    again = client_for(approver).post(_change_url(change_id, "approve"), {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_reviewed"

    second = client_for(second_approver).post(_change_url(change_id, "approve"), {}, format="json")

    assert second.json()["status"] == "APPLIED"  # two, as when it was requested
    stored = World.objects.get(pk="alpha")
    assert (stored.allow_live, stored.approvals_required) == (True, 3)


def test_approve__applied_onto_the_current_world(world, owner, approver, client_for):
    change_id = _hold(client_for, owner, {"allow_live": True})
    _patch(client_for(owner), {"name": "Renamed meanwhile", "circuit_breaker": True})

    client_for(approver).post(_change_url(change_id, "approve"), {}, format="json")

    stored = World.objects.get(pk="alpha")
    assert (stored.allow_live, stored.name, stored.circuit_breaker) == (
        True,
        "Renamed meanwhile",
        True,
    )


def test_reject__ends_the_change_and_world_unchanged(world, owner, approver, client_for):
    change_id = _hold(client_for, owner, {"allow_live": True})

    response = client_for(approver).post(
        _change_url(change_id, "reject"), {"comment": "not now"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "REJECTED"
    assert World.objects.get(pk="alpha").allow_live is False
    [rejected] = _events("world_change_rejected")
    assert (rejected.actor, rejected.request["comment"]) == ("abby", "not now")
    assert not _events("world_updated")


def test_withdraw__by_requester__withdrawn(world, owner, client_for):
    change_id = _hold(client_for, owner, {"allow_live": True})

    response = client_for(owner).post(_change_url(change_id, "withdraw"))

    assert response.status_code == 200
    assert response.json()["status"] == "WITHDRAWN"
    assert [row.actor for row in _events("world_change_withdrawn")] == ["olivia"]
    assert World.objects.get(pk="alpha").allow_live is False


def test_withdraw__by_another_owner__403_not_requester_and_nothing_stored(
    world, owner, member, client_for, unchanged
):
    change_id = _hold(client_for, owner, {"allow_live": True})
    client = client_for(member("owner"))
    unchanged.before()

    response = client.post(_change_url(change_id, "withdraw"))

    assert response.status_code == 403
    assert response.json()["code"] == "not_requester"
    unchanged.check()


@pytest.mark.parametrize(
    ("finish", "verb"),
    [
        ("reject", "approve"),
        ("reject", "reject"),
        ("approve", "reject"),
        ("withdraw", "approve"),
        ("approve", "withdraw"),
        ("withdraw", "withdraw"),
    ],
)
def test_acting_on_a_finished_change__409_not_pending_and_nothing_stored(
    world, owner, approver, second_approver, client_for, unchanged, finish, verb
):
    change_id = _hold(client_for, owner, {"allow_live": True})
    finisher = owner if finish == "withdraw" else approver
    client_for(finisher).post(_change_url(change_id, finish), {}, format="json")
    client = client_for(owner if verb == "withdraw" else second_approver)
    unchanged.before()

    response = client.post(_change_url(change_id, verb), {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "not_pending"
    unchanged.check()


def test_approve__floor_raised_since_request__409_and_stays_pending(
    world, owner, approver, client_for, unchanged, settings
):
    change_id = _hold(client_for, owner, {"approvals_required": 0})
    settings.WORLDSERVICE = {**settings.WORLDSERVICE, "MIN_APPROVALS": 1}
    client = client_for(approver)
    unchanged.before()

    response = client.post(_change_url(change_id, "approve"), {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "change_not_applicable"
    assert "WORLDSERVICE_MIN_APPROVALS=1" in response.json()["detail"]
    unchanged.check()
    assert WorldChange.objects.get().status == "PENDING"


# --- reading ----------------------------------------------------------------------------------


def test_list__newest_first_paginated_and_status_filter(world, owner, approver, client_for):
    ids = [_hold(client_for, owner, {"allow_live": True}) for _ in range(3)]
    client_for(owner).post(_change_url(ids[0], "withdraw"))
    client = client_for(owner)

    first = client.get("/worlds/alpha/changes?limit=2").json()
    second = client.get(first["next"]).json()
    pending = client.get("/worlds/alpha/changes?status=PENDING").json()

    assert [c["id"] for c in first["results"]] == [ids[2], ids[1]]
    assert [c["id"] for c in second["results"]] == [ids[0]]
    assert second["next"] is None
    assert [c["id"] for c in pending["results"]] == [ids[2], ids[1]]
    assert client.get("/worlds/alpha/changes?status=DONE").status_code == 400


def test_detail__unknown_or_other_worlds_change__404(world, owner, client_for):
    change_id = _hold(client_for, owner, {"allow_live": True})
    client = client_for(owner)
    client.post("/worlds", {"id": "beta", "name": "Beta"}, format="json")

    assert client.get(_change_url(change_id)).status_code == 200
    assert client.get(f"/worlds/beta/changes/{change_id}").status_code == 404
    assert client.get(_change_url(999)).status_code == 404
    assert client.get(_change_url("x1")).status_code == 404
    assert client.get(_change_url("0")).status_code == 404
    assert client.get(_change_url("²")).status_code == 404
    assert client.get(_change_url("9" * 30)).status_code == 404


# --- roles ------------------------------------------------------------------------------------


def test_roles__no_role__404_everywhere_and_nothing_stored(
    world, owner, member, client_for, unchanged
):
    change_id = _hold(client_for, owner, {"allow_live": True})
    client = client_for(member("none"))
    unchanged.before()

    assert client.get("/worlds/alpha/changes").status_code == 404
    assert client.get(_change_url(change_id)).status_code == 404
    for verb in ("approve", "reject", "withdraw"):
        assert client.post(_change_url(change_id, verb), {}, format="json").status_code == 404
    unchanged.check()


def test_roles__reader_lists_and_reads(world, owner, member, client_for):
    change_id = _hold(client_for, owner, {"allow_live": True})
    client = client_for(member("reader"))

    assert [c["id"] for c in client.get("/worlds/alpha/changes").json()["results"]] == [change_id]
    assert client.get(_change_url(change_id)).json()["status"] == "PENDING"


@pytest.mark.parametrize("role", ["reader", "operator", "owner"])
def test_roles__member_without_approver_permission__403_and_nothing_stored(
    world, owner, member, client_for, unchanged, role
):
    change_id = _hold(client_for, owner, {"allow_live": True})
    client = client_for(member(role))
    unchanged.before()

    for verb in ("approve", "reject"):
        response = client.post(_change_url(change_id, verb), {}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    unchanged.check()


def test_roles__approver_without_role__reads_and_approves(world, owner, approver, client_for):
    change_id = _hold(client_for, owner, {"allow_live": True})
    client = client_for(approver)

    assert client.get(_change_url(change_id)).status_code == 200
    assert client.get("/worlds/ghost/changes").status_code == 404
    assert client.post(_change_url(change_id, "approve"), {}, format="json").status_code == 200


def test_roles__world_scoped_approver__may_approve(world, owner, member, client_for):
    from django.contrib.auth.models import Permission

    from worlds.models import WorldUserObjectPermission

    change_id = _hold(client_for, owner, {"allow_live": True})
    scoped = member("reader")
    WorldUserObjectPermission.objects.create(
        content_object=world,
        user=scoped,
        permission=Permission.objects.get(codename="approve_policies"),
    )

    response = client_for(scoped).post(_change_url(change_id, "approve"), {}, format="json")

    assert response.json()["status"] == "APPLIED"


def test_review__unknown_key_in_body__400_and_nothing_stored(
    world, owner, approver, client_for, unchanged
):
    change_id = _hold(client_for, owner, {"allow_live": True})
    client = client_for(approver)
    unchanged.before()

    response = client.post(_change_url(change_id, "approve"), {"coment": "typo"}, format="json")

    assert response.status_code == 400
    unchanged.check()


def test_stored_change_and_reviews__refused_by_database(world, owner, approver, client_for):
    from django.db import DatabaseError, transaction

    change_id = _hold(client_for, owner, {"allow_live": True})
    client_for(approver).post(_change_url(change_id, "reject"), {}, format="json")

    with pytest.raises(DatabaseError), transaction.atomic():
        WorldChange.objects.filter(pk=change_id).update(changes={"approvals_required": 0})
    with pytest.raises(DatabaseError), transaction.atomic():
        WorldChangeApproval.objects.update(comment="edited")
    assert WorldChange.objects.get().changes == {"allow_live": True}
