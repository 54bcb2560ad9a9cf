"""The activation store contract, run against both backends (Redis and database)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading

import pytest
from django.db import connection

from activation.entries import envelope, expiry_text, hash_items, now_text, set_hash
from activation.models import ActivationCounter
from activation.store.base import ABSENT, EtagMismatch, StoreNotReady
from tests.activation.conftest import BACKENDS, build_store
from worldservice.canonical import canonical_json, content_hash

pytestmark = pytest.mark.django_db

ON = {"active": True, "weight": 0.5, "run_id": "r1"}
OFF = {"active": False, "weight": 0.0}


def test_empty_world__no_entry_version_0_hash_of_empty_set(store):
    read = store.get("w1", "s1", "long")

    assert (read.entry, read.version, read.ready) == (None, 0, True)
    assert store.get_all("w1").entries == {}
    assert store.state_hash("w1") == content_hash([])
    assert store.version("w1") == 0


def test_write__new_version_and_etag_of_that_version(store):
    outcome = store.write("w1", "s1", "long", ON)

    assert outcome.version == 1
    assert outcome.etag(("s1", "long")) == "act:w1:s1:long:1"
    entry = store.get("w1", "s1", "long").entry
    assert entry["version"] == 1
    assert entry["active"] is True and entry["weight"] == 0.5 and entry["run_id"] == "r1"
    assert (entry["freeze"], entry["drain"], entry["effective_mode"]) == (False, False, None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["ts"])
    assert envelope("w1", ("s1", "long"), entry, None)["etag"] == "act:w1:s1:long:1"


def test_writes__version_bumps_once_per_write_entries_keep_their_own(store):
    store.write("w1", "s1", "long", ON)
    store.write("w1", "s2", "long", ON)
    store.write("w1", "s2", "short", OFF)

    entries = store.get_all("w1").entries

    assert store.version("w1") == 3
    assert {key: entry["version"] for key, entry in entries.items()} == {
        ("s1", "long"): 1,
        ("s2", "long"): 2,
        ("s2", "short"): 3,
    }


def test_worlds__independent_counters(store):
    store.write("w1", "s1", "long", ON)
    store.write("w1", "s1", "long", OFF)

    assert store.write("w2", "s1", "long", ON).version == 1
    assert store.version("w1") == 2


def test_write_if_match__current_etag__written(store):
    first = store.write("w1", "s1", "long", ON)

    second = store.write("w1", "s1", "long", OFF, if_match=first.etag(("s1", "long")))

    assert second.version == 2
    assert store.get("w1", "s1", "long").entry["active"] is False


@pytest.mark.parametrize("stale", ["act:w1:s1:long:1", "act:w1:s1:long:x", "garbage", "*"])
def test_write_if_match__other_etag__mismatch_nothing_written(store, stale):
    store.write("w1", "s1", "long", ON)
    store.write("w1", "s1", "long", ON)

    with pytest.raises(EtagMismatch) as caught:
        store.write("w1", "s1", "long", OFF, if_match=stale)

    assert caught.value.current == "act:w1:s1:long:2"
    assert caught.value.status_code == 412
    assert store.version("w1") == 2
    assert store.get("w1", "s1", "long").entry["active"] is True


def test_write_if_match__missing_entry__mismatch(store):
    with pytest.raises(EtagMismatch) as caught:
        store.write("w1", "s1", "long", ON, if_match="act:w1:s1:long:1")

    assert caught.value.current is None
    assert store.version("w1") == 0


def test_write_if_absent__existing_entry__mismatch(store):
    store.write("w1", "s1", "long", ON, if_absent=True)

    with pytest.raises(EtagMismatch):
        store.write("w1", "s1", "long", OFF, if_absent=True)

    assert store.version("w1") == 1


def test_delete__entry_gone_version_bumped(store):
    written = store.write("w1", "s1", "long", ON)

    deleted = store.delete("w1", "s1", "long", if_match=written.etag(("s1", "long")))

    assert deleted.version == 2
    assert deleted.before[("s1", "long")]["active"] is True
    assert deleted.after == {("s1", "long"): None}
    assert store.get("w1", "s1", "long").entry is None
    assert store.version("w1") == 2


def test_write_many__one_version_for_all_and_deletes(store):
    store.write("w1", "gone", "long", ON)

    version = store.write_many(
        "w1", {("a", "long"): ON, ("b", "short"): OFF, ("gone", "long"): None}
    )

    entries = store.get_all("w1").entries
    assert version == 2
    assert set(entries) == {("a", "long"), ("b", "short")}
    assert {entry["version"] for entry in entries.values()} == {2}


def test_write_many__one_expectation_fails__nothing_written(store):
    store.write("w1", "a", "long", ON)
    store.write("w1", "b", "long", ON)
    before = store.get_all("w1")

    with pytest.raises(EtagMismatch):
        store.apply_changes(
            "w1",
            {("a", "long"): OFF, ("b", "long"): OFF, ("c", "long"): ON},
            expected={("a", "long"): "act:w1:a:long:1", ("b", "long"): "act:w1:b:long:1"},
        )

    after = store.get_all("w1")
    assert (after.version, after.entries) == (before.version, before.entries)


def test_apply_changes__expected_absent__created(store):
    outcome = store.apply_changes("w1", {("a", "long"): ON}, expected={("a", "long"): ABSENT})

    assert outcome.before == {("a", "long"): None}
    assert outcome.after[("a", "long")]["version"] == 1


def test_apply_changes__expectation_on_unchanged_key__refused(store):
    with pytest.raises(ValueError, match="expected"):
        store.apply_changes("w1", {("a", "long"): ON}, expected={("b", "long"): ABSENT})


def test_state_hash__canonical_json_of_public_fields_sorted(store):
    store.write_many("w1", {("b", "long"): ON, ("a", "short"): OFF})

    state = store.get_all("w1")
    items = hash_items("w1", state.entries)

    assert [(item["strategy_id"], item["side"]) for item in items] == [
        ("a", "short"),
        ("b", "long"),
    ]
    assert set(items[0]) == {
        "strategy_id", "side", "active", "weight", "freeze", "drain", "effective_mode",
        "etag", "run_id", "ts", "expires_at",
    }  # fmt: skip
    assert (
        state.state_hash == "sha256:" + hashlib.sha256(canonical_json(items).encode()).hexdigest()
    )
    assert store.state_hash("w1") == state.state_hash
    assert store.hash_state("w1").version == 1


def test_state_hash__changes_with_every_write(store):
    hashes = {store.state_hash("w1")}
    for weight in (0.1, 0.2, 0.3):
        store.write("w1", "s1", "long", {"active": True, "weight": weight})
        hashes.add(store.state_hash("w1"))

    assert len(hashes) == 4


def test_get__state_hash_of_current_version(store):
    store.write("w1", "s1", "long", ON)

    read = store.get("w1", "s1", "long")

    assert read.state_hash in (None, store.state_hash("w1"))
    assert set_hash("w1", store.get_all("w1").entries) == store.state_hash("w1")


def test_normalize__unknown_keys_dropped_previous_only_with_expiry(store):
    store.write(
        "w1",
        "s1",
        "long",
        {**ON, "etag": "x", "strategy_id": "zz", "version": 99, "previous": {"active": False}},
    )

    entry = store.get("w1", "s1", "long").entry

    assert entry["version"] == 1
    assert entry["previous"] is None
    assert "etag" not in entry and "strategy_id" not in entry


@pytest.mark.parametrize(
    "bad", [{"active": "yes"}, {"active": True, "weight": 1.5}, {"effective_mode": "turbo"}]
)
def test_write__invalid_entry__value_error_nothing_written(store, bad):
    with pytest.raises(ValueError):
        store.write("w1", "s1", "long", bad)

    assert store.version("w1") == 0


def test_ttl_entry__previous_kept_and_due_for_expiry(store):
    store.write("w1", "s1", "long", ON)
    previous = store.get("w1", "s1", "long").entry
    past = now_text(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
    store.write("w1", "s1", "long", {**OFF, "expires_at": past, "previous": previous})
    store.write("w1", "s2", "long", {**OFF, "expires_at": expiry_text(3600), "previous": None})

    entry = store.get("w1", "s1", "long").entry

    assert entry["previous"]["version"] == 1
    assert entry["expires_at"] == past
    assert store.due_expiries(now_text()) == [("w1", ("s1", "long"))]


def test_due_expiries__rewritten_without_ttl__not_due(store):
    past = now_text(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
    store.write("w1", "s1", "long", {**OFF, "expires_at": past})

    store.write("w1", "s1", "long", ON)

    assert store.due_expiries(now_text()) == []


def test_replace_all__one_version_above_floor_and_counter(store):
    store.write_many("w1", {("old", "long"): ON, ("kept", "long"): ON})

    outcome = store.replace_all("w1", {("kept", "long"): OFF, ("new", "short"): ON}, min_version=10)

    entries = store.get_all("w1").entries
    assert outcome.version == 10
    assert set(entries) == {("kept", "long"), ("new", "short")}
    assert {entry["version"] for entry in entries.values()} == {10}
    assert outcome.after[("old", "long")] is None
    assert store.replace_all("w1", {}, min_version=3).version == 11


def test_versions__never_go_backwards_across_any_write(store):
    seen = []
    seen.append(store.write("w1", "a", "long", ON).version)
    seen.append(store.write_many("w1", {("a", "long"): None, ("b", "long"): ON}))
    seen.append(store.replace_all("w1", {("a", "long"): ON}, min_version=0).version)
    seen.append(store.delete("w1", "a", "long").version)

    assert seen == sorted(seen) and len(set(seen)) == len(seen)


def test_write__high_water_mark_raised_in_database(store):
    store.write("w1", "s1", "long", ON)
    store.write("w1", "s1", "long", OFF)

    assert ActivationCounter.objects.get(world_id="w1").version == 2


def test_redis_store__no_counter__not_ready_and_writes_refused(db):
    store = build_store("redis")

    assert store.is_ready("fresh") is False
    assert store.get("fresh", "s1", "long").ready is False
    assert store.get_all("fresh").ready is False
    with pytest.raises(StoreNotReady):
        store.write("fresh", "s1", "long", ON)
    with pytest.raises(StoreNotReady):
        store.read_all("fresh")

    store.initialize("fresh")

    assert store.write("fresh", "s1", "long", ON).version == 1


def test_database_store__always_ready(db):
    assert build_store("database").is_ready("fresh") is True


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend_name", BACKENDS)
def test_parallel_writes__every_write_its_own_version(backend_name):
    store = build_store(backend_name)
    store.initialize("w1")
    versions: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def writer(index: int) -> None:
        try:
            barrier.wait()
            for step in range(5):
                version = store.write("w1", f"s{index}", "long", {"active": step % 2 == 0}).version
                with lock:
                    versions.append(version)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(versions) == list(range(1, 41))
    assert store.version("w1") == 40
