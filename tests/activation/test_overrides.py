"""The override service, deactivate_all, and undoing a store write whose transaction failed."""

from __future__ import annotations

import pytest

from activation.models import ActivationSnapshot
from activation.services import changes as change_services
from activation.services.overrides import deactivate_all, override_activation
from activation.store import get_store
from worlds.models import WorldAuditLog, WorldEvent
from worldservice.api.errors import InvalidInput, NotFound, PreconditionFailed

pytestmark = pytest.mark.django_db


def _stored(strategy_id: str = "s1", side: str = "long") -> dict:
    """The stored entry of world alpha (which must exist)."""
    entry = get_store().get("alpha", strategy_id, side).entry
    assert entry is not None
    return entry


def _override(owner, strategy_id="s1", side="long", **fields):
    fields.setdefault("active", True)
    return override_activation(
        actor=owner, world_id="alpha", strategy_id=strategy_id, side=side, **fields
    )


def test_override__string_actor__recorded_as_actor(world):
    _override("ops-bot")

    assert WorldAuditLog.objects.get(event="activation_updated").actor == "ops-bot"


@pytest.mark.parametrize(
    "fields",
    [
        {"weight": 2.0},
        {"weight": float("nan")},
        {"side": "sideways"},
        {"strategy_id": "has space"},
        {"run_id": "no/slash"},
        {"ttl_seconds": 0},
        {"effective_mode": "turbo"},
        {"active": "yes"},
    ],
)
def test_override__invalid_fields__invalid_input_nothing_stored(world, owner, fields):
    with pytest.raises(InvalidInput):
        _override(owner, **fields)

    assert get_store().hash_state("alpha").version == 0


def test_override__unknown_world__not_found(db, owner):
    with pytest.raises(NotFound):
        override_activation(actor=owner, world_id="nope", strategy_id="s", side="long", active=True)


def test_override__if_match_star_on_existing__written(world, owner):
    _override(owner)

    envelope = _override(owner, active=False, expected_etags={"*"})

    assert envelope["active"] is False


def test_override__if_match_star_on_missing__412(world, owner):
    with pytest.raises(PreconditionFailed):
        _override(owner, expected_etags={"*"})


def test_override__ttl__expires_at_and_previous_stored(world, owner, backend):
    base = _override(owner, weight=0.4, run_id="base")

    envelope = _override(owner, active=False, ttl_seconds=30)

    assert envelope["expires_at"] is not None and envelope["expires_at"] > envelope["ts"]
    stored = _stored("s1", "long")
    assert stored["previous"]["run_id"] == "base"
    assert stored["previous"]["version"] == int(base["etag"].rsplit(":", 1)[1])
    assert "previous" not in envelope


def test_deactivate_all__every_entry_inactive_with_events(world, owner, backend):
    _override(owner, "a")
    _override(owner, "b", "short", weight=0.3)
    _override(owner, "c", ttl_seconds=60)
    events_before = WorldEvent.objects.filter(type="activation_updated").count()

    version = deactivate_all(actor=owner, world_id="alpha")

    entries = get_store().get_all("alpha").entries
    assert version == 4
    assert all(entry["active"] is False for entry in entries.values())
    assert all(
        entry["expires_at"] is None and entry["previous"] is None for entry in entries.values()
    )
    assert {entry["version"] for entry in entries.values()} == {4}
    events = WorldEvent.objects.filter(type="activation_updated").order_by("id")[events_before:]
    assert [e.data["cause"] for e in events] == ["world_deleted"] * 3
    assert all(e.data["active"] is False and e.data["version"] == 4 for e in events)
    assert ActivationSnapshot.objects.filter(world_id="alpha", reason="world_deleted").exists()


def test_deactivate_all__no_entries__nothing_written(world, owner, backend):
    assert deactivate_all(actor=owner, world_id="alpha") == 0
    assert not WorldEvent.objects.filter(type="activation_updated").exists()


def test_failed_transaction_after_store_write__store_put_back(world, owner, monkeypatch, backend):
    _override(owner, weight=0.5, run_id="kept")
    original = change_services.publish_changes
    calls = []

    def failing_once(**kwargs):
        calls.append(kwargs["cause"])
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return original(**kwargs)

    monkeypatch.setattr("activation.services.overrides.publish_changes", failing_once)

    with pytest.raises(RuntimeError, match="database went away"):
        _override(owner, active=False, run_id="lost")

    entry = _stored("s1", "long")
    assert (entry["active"], entry["weight"], entry["run_id"]) == (True, 0.5, "kept")
    rows = WorldAuditLog.objects.filter(event="activation_updated").order_by("id")
    if backend == "redis":
        assert entry["version"] == 3  # the failed write was 2, its undo 3: never backwards
        assert calls == ["override", "compensation"]
        assert [row.result["cause"] for row in rows] == ["override", "compensation"]
    else:  # the database store's write rolled back with the transaction
        assert entry["version"] == 1
        assert calls == ["override"]
        assert [row.result["cause"] for row in rows] == ["override"]
