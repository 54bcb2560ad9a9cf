"""Apply under failure, with real processes: a worker killed mid-apply, concurrent applies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from rest_framework.test import APIClient

from activation.apply.models import ApplyRun
from activation.store import get_store
from tests.factories import UserFactory, make_world, token_for
from tests.faults.conftest import wait_until
from worlds.models import WorldAuditLog

pytestmark = [pytest.mark.faults, pytest.mark.real_worker]


def _client() -> tuple[APIClient, str]:
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="alpha")
    secret = token_for(owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client, secret


def _phase(run_id: str) -> str | None:
    return ApplyRun.objects.filter(run_id=run_id).values_list("phase", flat=True).first()


def test_worker_killed_mid_apply__reaper_rolls_back(processes):
    # Given an active set, and a worker that lingers in each stage
    client, _ = _client()
    get_store().initialize("alpha")
    get_store().write_many("alpha", {("s1", "long"): {"active": True, "weight": 1.0}})
    slow = {"WORLDSERVICE_APPLY_STAGE_DELAY_MS": "4000", "WORLDSERVICE_APPLY_TIMEOUT_SECONDS": "3"}
    worker = processes.celery_worker(env=slow)

    # When an apply starts and its worker is SIGKILLed during freeze
    response = client.post(
        "/worlds/alpha/apply",
        {"run_id": "doomed", "plan": {"activate": ["s2"], "deactivate": ["s1"]}},
        format="json",
        HTTP_PREFER="respond-async",
    )
    assert response.status_code == 202
    wait_until(
        lambda: _phase("doomed") == "freeze", timeout=30, message="the freeze stage", watch=[worker]
    )
    assert get_store().read_all("alpha")[1][("s1", "long")]["freeze"] is True
    worker.kill(group=True)

    # Then a reaper (beat + a fresh worker) rolls the run back within the timeout
    reaper = processes.celery_worker(
        "--beat",
        "--schedule",
        str(processes.log_dir / "beat"),
        env={"WORLDSERVICE_APPLY_TIMEOUT_SECONDS": "3"},
    )
    wait_until(
        lambda: _phase("doomed") == "rolled_back",
        timeout=30,
        message="the reaper to roll the run back",
        watch=[reaper],
    )
    run = ApplyRun.objects.get(run_id="doomed")
    assert run.ok is False
    entries = get_store().read_all("alpha")[1]
    assert entries[("s1", "long")]["freeze"] is False
    assert entries[("s1", "long")]["active"] is True
    assert ("s2", "long") not in entries
    stages = [
        row.result["stage"]
        for row in WorldAuditLog.objects.filter(world_id="alpha", event="apply_stage").order_by(
            "id"
        )
    ]
    assert stages == ["requested", "freeze", "rolled_back"]
    assert client.get("/worlds/alpha/apply/doomed").json()["phase"] == "rolled_back"


def test_concurrent_applies__one_wins(processes):
    # Given a worker that takes a moment per stage
    client, secret = _client()
    processes.celery_worker(env={"WORLDSERVICE_APPLY_STAGE_DELAY_MS": "500"})
    barrier = Barrier(10)

    def apply(index: int) -> int:
        own = APIClient()
        own.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        try:
            return own.post(
                "/worlds/alpha/apply",
                {"run_id": f"r{index}", "plan": {"activate": [f"s{index}"]}},
                format="json",
            ).status_code
        finally:
            connection.close()

    # When ten different runs are requested at once
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(apply, range(10)))

    # Then one runs to completion and nine are refused
    assert statuses == [200] + [409] * 9
    winner = ApplyRun.objects.get()
    assert (winner.phase, winner.ok) == ("completed", True)
    entries = get_store().read_all("alpha")[1]
    assert list(entries) == [(winner.active[0], "long")]
    assert entries[(winner.active[0], "long")]["active"] is True
    assert not entries[(winner.active[0], "long")]["freeze"]
