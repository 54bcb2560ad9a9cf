"""`GET /worlds/{id}/activation?at=`: the set as it stood then, from snapshots and audit rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from activation.history import recorded_state
from activation.models import ActivationSnapshot
from activation.services.overrides import override_activation
from policies.services.defaults import set_default_version
from policies.services.uploads import PolicySource, upload_policy
from tests.factories import make_world
from worlds.audit import record_audit
from worlds.roles import Role
from worlds.services.members import grant_role
from worldservice.clock import rfc3339

pytestmark = pytest.mark.django_db


@pytest.fixture
def lax_world(owner):
    return make_world(owner=owner, world_id="beta", approvals_required=0)


def _at(client, moment):
    response = client.get("/worlds/beta/activation", {"at": rfc3339(moment)})
    assert response.status_code == 200, response.content
    return response.json()


def _override(actor, strategy_id, **fields):
    fields.setdefault("active", True)
    return override_activation(
        actor=actor, world_id="beta", strategy_id=strategy_id, side="long", **fields
    )


def test_at__each_moment__set_policy_and_last_change_then(lax_world, owner, member, client_for):
    operator = member("operator")
    grant_role(world=lax_world, user=operator, role=Role.OPERATOR)
    t0 = timezone.now()
    upload_policy(actor=owner, world_id="beta", source=PolicySource(preset="sandbox"))
    _override(owner, "a", weight=0.5)
    t1 = timezone.now()
    upload_policy(actor=owner, world_id="beta", source=PolicySource(preset="conservative"))
    set_default_version(actor=owner, world_id="beta", version=2)
    _override(operator, "b")
    _override(operator, "a", active=False)
    t2 = timezone.now()
    client = client_for(owner)

    at0, at1, at2 = _at(client, t0), _at(client, t1), _at(client, t2)

    assert (at0["entries"], at0["version"], at0["policy_version"]) == ([], 0, None)
    assert at0["last_changed_by"] is None
    assert [(e["strategy_id"], e["active"], e["weight"]) for e in at1["entries"]] == [
        ("a", True, 0.5)
    ]
    assert (at1["version"], at1["policy_version"], at1["last_changed_by"]) == (1, 1, "olivia")
    assert [(e["strategy_id"], e["active"]) for e in at2["entries"]] == [("a", False), ("b", True)]
    assert (at2["version"], at2["policy_version"]) == (3, 2)
    assert at2["last_changed_by"] == operator.username
    assert at2["state_hash"] == client.get("/worlds/beta/activation").json()["state_hash"]
    assert set(at2) == {
        "world_id", "version", "state_hash", "entries", "at", "policy_version",
        "last_changed_by", "last_changed_at",
    }  # fmt: skip


def test_at__without_snapshots__replayed_from_audit_alone(lax_world, owner):
    _override(owner, "a")
    _override(owner, "b", ttl_seconds=60)
    _override(owner, "a", weight=0.2)
    ActivationSnapshot.objects.all().delete()

    recorded = recorded_state("beta", timezone.now())

    assert recorded.snapshot_version is None and recorded.replayed == 3
    assert recorded.version == 3
    assert recorded.entries[("a", "long")]["weight"] == 0.2
    assert recorded.entries[("b", "long")]["expires_at"] is not None


def test_at__apply_stage_rows__replayed(lax_world, owner):
    _override(owner, "a")
    with transaction.atomic():
        record_audit(
            event="apply_stage",
            actor="olivia",
            world_id="beta",
            result={
                "stage": "switch",
                "version": 2,
                "entries": {
                    "a|long": {"active": False, "weight": 0.0, "version": 1, "ts": "old"},
                    "n|short": {"active": True, "weight": 0.7, "freeze": True},
                },
            },
        )

    recorded = recorded_state("beta", timezone.now() + dt.timedelta(seconds=1))

    assert recorded.version == 2
    assert recorded.entries[("a", "long")]["active"] is False
    assert recorded.entries[("a", "long")]["version"] == 2
    assert recorded.entries[("n", "short")]["weight"] == 0.7


def test_at__future__current_recorded_state(lax_world, owner, client_for):
    _override(owner, "a")

    body = _at(client_for(owner), timezone.now() + dt.timedelta(days=1))

    assert [e["strategy_id"] for e in body["entries"]] == ["a"]
    assert body["entries"][0]["etag"] == "act:beta:a:long:1"
