"""`POST /allocations` staging: the injected storage, bus and executor, and the executor setting."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from rebalancing.allocation.plan import AllocationExecutionPlan
from rebalancing.allocation.storage import DjangoAllocationStorage
from rebalancing.models import RebalanceRun, WorldAllocation
from rebalancing.services import upsert_allocations
from tests.factories import make_world, override_worldservice
from tests.rebalancing.contract import WORLDS, fixture, serving
from worlds.models import WorldAuditLog, WorldEvent
from worldservice.config import DEFAULT_ALLOCATION_EXECUTOR, ConfigError, load_config

pytestmark = pytest.mark.django_db

RECORDING_EXECUTOR = f"{__name__}.RecordingExecutor"
ALLOCATION_KEYS = ("run_id", "etag", "executed")
# Generous: only a broken lock (or a hung database) ever waits this long.
WAIT_SECONDS = 30


class RecordingExecutor:
    """An executor that only remembers what it was handed."""

    handed: list[AllocationExecutionPlan] = []

    def execute(self, plan, *, audit, bus):
        self.handed.append(plan)


class RecordingBus:
    def __init__(self):
        self.events = []

    def record_event(self, *, world_id, type, data):
        self.events.append((world_id, type, dict(data)))


class StageLog(DjangoAllocationStorage):
    """The real storage, noting which of its calls the stages made, in order."""

    def __init__(self):
        self.calls = []

    def lock_worlds(self, world_ids):
        self.calls.append(("lock_worlds", sorted(world_ids)))
        super().lock_worlds(world_ids)

    def recorded_allocations(self, world_ids):
        self.calls.append(("recorded_allocations", sorted(world_ids)))
        return super().recorded_allocations(world_ids)

    def replayed(self, run_id, fingerprint):
        self.calls.append(("replayed", run_id))
        return super().replayed(run_id, fingerprint)

    def save_allocation(self, plan, world_id, share):
        self.calls.append(("save_allocation", world_id))
        super().save_allocation(plan, world_id, share)

    def record_run(self, plan):
        self.calls.append(("record_run", plan.run_id))
        super().record_run(plan)


class RunTakenMeanwhile(DjangoAllocationStorage):
    """Storage where another request records the same run_id just before this one does."""

    def record_run(self, plan):
        RebalanceRun.objects.create(
            kind="allocation", run_id=plan.run_id, fingerprint="x", response={}, actor="other"
        )
        super().record_run(plan)


@pytest.fixture
def worlds(owner):
    return [make_world(owner=owner, world_id=world_id) for world_id in WORLDS]


@pytest.fixture(autouse=True)
def _fresh_recording():
    RecordingExecutor.handed.clear()


def _allocate(owner, name, version=1, **seam):
    with serving(version):
        return upsert_allocations(actor=owner, data=fixture(version, name), **seam)


def test_executor_from_settings__handed_the_stored_plan(worlds, owner, client_for):
    client_for(owner).post("/allocations", fixture(1, "allocations.request"), format="json")

    with override_worldservice(ALLOCATION_EXECUTOR=RECORDING_EXECUTOR):
        response = client_for(owner).post(
            "/allocations", fixture(1, "allocations_execute.request"), format="json"
        )

    assert response.json() == fixture(1, "allocations_execute.response")
    [plan] = RecordingExecutor.handed
    assert plan.run_id == "al-exec-1"
    assert plan.execute is True
    assert plan.response() == response.json()
    assert not WorldEvent.objects.filter(type="rebalancing_planned").exists()
    assert WorldAuditLog.objects.filter(event="allocation_upserted").count() == 2 * len(WORLDS)


def test_executor_from_settings__execute_false__not_called(worlds, owner):
    with override_worldservice(ALLOCATION_EXECUTOR=RECORDING_EXECUTOR):
        _allocate(owner, "allocations.request")

    assert RecordingExecutor.handed == []


def test_executor_setting__not_importable__improperly_configured_and_nothing_stored(worlds, owner):
    with (
        override_worldservice(ALLOCATION_EXECUTOR="rebalancing.nowhere.Executor"),
        pytest.raises(ImproperlyConfigured, match="cannot be imported"),
    ):
        _allocate(owner, "allocations.request")

    assert not WorldAllocation.objects.exists()


def test_executor_setting__no_execute_method__improperly_configured(worlds, owner):
    with (
        override_worldservice(ALLOCATION_EXECUTOR=f"{__name__}.RecordingBus"),
        pytest.raises(ImproperlyConfigured, match="no execute"),
    ):
        _allocate(owner, "allocations.request")


def test_injected_bus__receives_the_fixture_payloads_instead_of_the_outbox(worlds, owner):
    _allocate(owner, "allocations.request", version=2)
    bus = RecordingBus()

    response = _allocate(owner, "allocations_execute.request", version=2, bus=bus)

    assert response == fixture(2, "allocations_execute.response")
    expected = fixture(2, "allocations_execute.events")
    assert bus.events == [
        (world_id, "rebalancing_planned", {k: v for k, v in payload.items() if k != "world_id"})
        for world_id, payload in expected.items()
    ]
    assert not WorldEvent.objects.filter(type="rebalancing_planned").exists()
    assert WorldAuditLog.objects.filter(event="rebalancing_planned").count() == len(WORLDS)


def test_stages__lock_then_read_then_persist_in_order(worlds, owner):
    storage = StageLog()

    _allocate(owner, "allocations.request", storage=storage)

    assert storage.calls == [
        ("lock_worlds", ["w1", "w2"]),
        ("recorded_allocations", ["w1", "w2"]),
        ("replayed", "al-1"),
        ("save_allocation", "w1"),
        ("save_allocation", "w2"),
        ("record_run", "al-1"),
    ]


def test_stages__replay__stops_before_planning(worlds, owner):
    first = _allocate(owner, "allocations.request")
    storage = StageLog()

    again = _allocate(owner, "allocations.request", storage=storage)

    assert again == first
    stages = [call for call, _ in storage.calls]
    assert stages == ["lock_worlds", "recorded_allocations", "replayed"]


def test_storage_conflict__run_id_raced_in__plan_answered_and_nothing_stored(worlds, owner):
    response = _allocate(owner, "allocations.request", storage=RunTakenMeanwhile())

    expected = fixture(1, "allocations.response")
    assert response == {k: v for k, v in expected.items() if k not in ALLOCATION_KEYS}
    assert not WorldAllocation.objects.exists()
    assert not RebalanceRun.objects.exists()
    assert not WorldAuditLog.objects.filter(event="allocation_upserted").exists()


def test_config__allocation_executor__default_env_and_bad_value():
    assert load_config({}).as_settings()["ALLOCATION_EXECUTOR"] == DEFAULT_ALLOCATION_EXECUTOR
    chosen = load_config({"WORLDSERVICE_ALLOCATION_EXECUTOR": RECORDING_EXECUTOR})
    assert chosen.allocation_executor == RECORDING_EXECUTOR
    with pytest.raises(ConfigError, match="WORLDSERVICE_ALLOCATION_EXECUTOR"):
        load_config({"WORLDSERVICE_ALLOCATION_EXECUTOR": "not a path"})


class HeldAfterLocking(DjangoAllocationStorage):
    """The real storage, pausing once it holds the world locks until the test lets it go."""

    def __init__(self):
        self.locked = threading.Event()
        self.release = threading.Event()

    def recorded_allocations(self, world_ids):
        self.locked.set()
        assert self.release.wait(WAIT_SECONDS), "the test never released the first request"
        return super().recorded_allocations(world_ids)


def _in_thread(target):
    outcome = {}

    def run():
        try:
            outcome["response"] = target()
        except Exception as exc:  # reported by the test, not lost in the thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _someone_waits_for_an_advisory_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_lock__second_request_for_the_same_worlds__waits_and_plans_from_the_first(owner):
    for world_id in WORLDS:
        make_world(owner=owner, world_id=world_id)
    first_storage = HeldAfterLocking()
    # v1 needs no settings override (one would not be thread-safe).
    first, first_outcome = _in_thread(
        lambda: upsert_allocations(
            actor=owner, data=fixture(1, "allocations.request"), storage=first_storage
        )
    )
    assert first_storage.locked.wait(WAIT_SECONDS)

    second, second_outcome = _in_thread(
        lambda: upsert_allocations(actor=owner, data=fixture(1, "allocations_execute.request"))
    )
    waited = _eventually(_someone_waits_for_an_advisory_lock)
    first_storage.release.set()
    first.join(WAIT_SECONDS)
    second.join(WAIT_SECONDS)

    assert waited, "the second request never waited for the world locks"
    assert first_outcome == {"response": fixture(1, "allocations.response")}
    # Planned from the shares the first request stored, which it could only read after the commit.
    assert second_outcome == {"response": fixture(1, "allocations_execute.response")}


def _eventually(check):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False
