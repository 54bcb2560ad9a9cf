"""Snapshots (after every write, periodic) and `restore_activation`."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from activation.models import ActivationCounter, ActivationSnapshot
from activation.services.overrides import override_activation
from activation.services.snapshots import snapshot_all_worlds, take_snapshot
from activation.store import get_store
from activation.tasks import expire_overrides
from activation.tasks import snapshot_all_worlds as snapshot_task
from worlds.models import WorldAuditLog, WorldEvent
from worlds.services.worlds import update_world
from worldservice.beat import CELERY_BEAT_SCHEDULE
from worldservice.celery import app

pytestmark = pytest.mark.django_db


def _stored(strategy_id: str = "s1", side: str = "long") -> dict:
    """The stored entry of world alpha (which must exist)."""
    entry = get_store().get("alpha", strategy_id, side).entry
    assert entry is not None
    return entry


def _override(owner, strategy_id="s1", **fields):
    fields.setdefault("active", True)
    return override_activation(
        actor=owner, world_id="alpha", strategy_id=strategy_id, side="long", **fields
    )


def _flush_world(redis_client, world_id="alpha"):
    """What a Redis loss looks like for one world (FLUSHDB would also drop the test caches)."""
    redis_client.delete(
        f"world:{world_id}:active",
        f"world:{world_id}:active:version",
        f"world:{world_id}:active:hash",
    )


def _restore(*args):
    out = io.StringIO()
    call_command("restore_activation", *args, stdout=out)
    return out.getvalue()


def test_take_snapshot__one_per_version(world, owner, backend):
    _override(owner)
    first = ActivationSnapshot.objects.get(world_id="alpha")

    again = take_snapshot("alpha", reason="manual")

    assert again.pk == first.pk
    assert ActivationSnapshot.objects.filter(world_id="alpha").count() == 1
    _override(owner, weight=0.5)
    assert ActivationSnapshot.objects.filter(world_id="alpha").count() == 2


def test_snapshot__whole_set_with_hash_and_version(world, owner, backend):
    _override(owner, "a")
    _override(owner, "b", ttl_seconds=60)

    snapshot = take_snapshot("alpha")
    state = get_store().get_all("alpha")

    assert (snapshot.version, snapshot.state_hash) == (state.version, state.state_hash)
    assert [row["strategy_id"] for row in snapshot.entries] == ["a", "b"]
    assert snapshot.entries[1]["expires_at"] is not None


def test_snapshot_all_worlds__only_changed_worlds(world, owner, backend):
    _override(owner)
    ActivationSnapshot.objects.all().delete()

    assert snapshot_all_worlds() == 1
    assert snapshot_all_worlds() == 0
    assert ActivationSnapshot.objects.get().reason == "periodic"


def test_tasks__registered_and_in_beat_schedule(world, owner):
    _override(owner)
    ActivationSnapshot.objects.all().delete()
    names = {entry["task"] for entry in CELERY_BEAT_SCHEDULE.values()}

    assert names >= {
        "activation.tasks.expire_overrides",
        "activation.tasks.snapshot_all_worlds",
        "activation.reap_stale_applies",
        "policies.resend_stalled_evaluations",
        "worlds.relay_outbox",
    }
    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks
    assert names <= set(app.tasks)
    assert snapshot_task.delay().get() == 1
    assert expire_overrides.delay().get() == 0


def test_restore_command__lost_world__restored_at_higher_versions(world, owner, redis_client):
    _override(owner, "a", weight=0.5, run_id="r-a")
    _override(owner, "b", active=False)
    before = get_store().get_all("alpha")
    _flush_world(redis_client)

    output = _restore("--world", "alpha")

    after = get_store().get_all("alpha")
    assert "alpha: restored 2 entries at version 3" in output
    assert after.version == 3 > before.version
    assert set(after.entries) == set(before.entries)
    for key, entry in after.entries.items():
        old = before.entries[key]
        assert entry["version"] == 3
        assert {k: entry[k] for k in ("active", "weight", "run_id")} == {
            k: old[k] for k in ("active", "weight", "run_id")
        }
    rows = WorldAuditLog.objects.filter(event="activation_updated", result__cause="rebuild")
    assert rows.count() == 2 and {row.actor for row in rows} == {"system"}
    assert WorldEvent.objects.filter(data__cause="rebuild").count() == 2


def test_restore_command__intact_world__left_alone(world, owner, backend):
    _override(owner)

    output = _restore()

    assert "alpha: intact at version 1" in output
    assert get_store().version("alpha") == 1


def test_restore_command__force__rewritten_from_records(world, owner, backend):
    _override(owner)

    output = _restore("--world", "alpha", "--force")

    assert "alpha: restored 1 entries at version 2" in output
    assert _stored("s1", "long")["version"] == 2


def test_restore_command__unknown_world__error(db):
    with pytest.raises(CommandError, match="does not exist"):
        _restore("--world", "nope")


def test_restore__change_after_latest_snapshot__replayed_from_audit(world, owner, redis_client):
    _override(owner, "a")
    _override(owner, "b", weight=0.25)
    ActivationSnapshot.objects.filter(version=2).delete()  # that snapshot write "failed"
    _flush_world(redis_client)

    _restore("--world", "alpha")

    entries = get_store().get_all("alpha").entries
    assert set(entries) == {("a", "long"), ("b", "long")}
    assert entries[("b", "long")]["weight"] == 0.25


def test_restore__high_water_above_snapshot__version_above_both(world, owner, redis_client):
    _override(owner)
    ActivationCounter.objects.filter(world_id="alpha").update(version=50)
    _flush_world(redis_client)

    _restore("--world", "alpha")

    assert get_store().version("alpha") == 51


def test_restore__deleted_world__entries_come_back_inactive(world, owner, redis_client):
    _override(owner, ttl_seconds=600)
    update_world(actor=owner, world_id="alpha", changes={"state": "DELETED"})
    _flush_world(redis_client)

    _restore("--world", "alpha")

    entry = _stored("s1", "long")
    assert entry["active"] is False and entry["expires_at"] is None


def test_periodic_snapshot__lost_set__rebuilt_not_snapshot_empty(world, owner, redis_client):
    _override(owner)
    _flush_world(redis_client)

    snapshot_all_worlds()

    assert all(snapshot.entries for snapshot in ActivationSnapshot.objects.all())
    assert _stored("s1", "long")["active"] is True
