"""Evaluate and decide across real processes: a Celery worker, and a second Django process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from policies.models import EvaluationRun
from policies.services.uploads import PolicySource, upload_policy
from tests.factories import UserFactory, make_world, token_for
from tests.processes import subprocess_env

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.mark.real_worker
def test_evaluate__runs_on_a_real_worker__request_waits_for_it(real_worker):
    from rest_framework.test import APIClient

    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="ev", approvals_required=0)
    upload_policy(actor=owner, world_id="ev", source=PolicySource(preset="sandbox"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(owner)}")

    response = client.post(
        "/worlds/ev/evaluate", {"metrics": {"s1": {"sharpe": 1.0}}, "run_id": "w-1"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["strategies"]["s1"]["status"] == "pass"
    assert EvaluationRun.objects.get(run_id="w-1").status == "completed"


def test_decide__hysteresis_hold_seen_by_another_process():
    from rest_framework.test import APIClient

    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="live", allow_live=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(owner)}")
    client.post("/worlds/live/bindings", {"strategies": ["s1"]}, format="json")
    client.post("/worlds/live/decisions", {"strategies": ["s1"]}, format="json")
    history = {
        "strategy_id": "s1",
        "node_id": "n",
        "interval": 60,
        "rows": 5,
        "dataset_fingerprint": "fp",
        "as_of": "2025-01-01T00:00:00Z",
    }
    client.post("/worlds/live/history", history, format="json")
    assert client.get("/worlds/live/decide").json()["effective_mode"] == "live"
    client.post("/worlds/live/history", {**history, "rows": None}, format="json")

    # Given the first decision was made in this process, a fresh process decides next.
    script = (
        "import json; from policies.services.decide import decide; "
        "print(json.dumps(decide('live')))"
    )
    out = (
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", script],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    body = json.loads(out)
    assert body["effective_mode"] == "live"
    assert body["reason"].endswith("hysteresis_hold")
