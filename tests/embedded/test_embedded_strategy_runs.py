"""A strategy's evaluation runs on the embedded default: SQLite selects the strategy's part."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world

pytestmark = pytest.mark.django_db

ODD_IDS = ["123", 'x."y$', "s1"]


@pytest.mark.parametrize("strategy_id", ODD_IDS)
def test_strategy_runs__any_strategy_id__its_part_metrics_and_history(client_for, strategy_id):
    owner = UserFactory(permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="ev", approvals_required=0)
    upload_policy(
        actor=owner,
        world_id="ev",
        source=PolicySource(text="selection: {gates: ['sharpe >= 0.6']}"),
    )
    client = client_for(owner)
    history = {
        "strategy_id": strategy_id,
        "node_id": "n",
        "interval": 60,
        "dataset_fingerprint": "fp",
        "as_of": "2025-01-01T00:00:00Z",
    }
    assert client.post("/worlds/ev/history", history, format="json").status_code == 204
    metrics = {sid: {"sharpe": 0.7 + i / 10, "side": "long"} for i, sid in enumerate(ODD_IDS)}
    body = {"metrics": metrics, "run_id": "eval-1", "as_of": "2025-01-02T00:00:00Z"}
    assert client.post("/worlds/ev/evaluate", body, format="json").status_code == 200
    base = f"/worlds/ev/strategies/{quote(strategy_id, safe='')}/runs"

    listed = client.get(base).json()["results"]
    run = client.get(base + "/eval-1").json()
    inputs = client.get(base + "/eval-1/metrics").json()
    used = client.get(base + "/eval-1/history").json()

    expected = metrics[strategy_id]["sharpe"]
    assert [r["run_id"] for r in listed] == ["eval-1"]
    assert run["gates"] == [{"rule": "sharpe >= 0.6", "value": expected, "passed": True}]
    assert (run["status"], run["active"]) == ("pass", True)
    assert inputs["metrics"] == {"sharpe": expected}
    assert (used["history_status"], used["entry"]["dataset_fingerprint"]) == ("recorded", "fp")
