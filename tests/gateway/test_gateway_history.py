"""History metadata as the existing Gateway posts it.

See docs/contract.md#what-the-existing-gateway-sends.
"""

from __future__ import annotations

import datetime as dt

import pytest

from policies.models import HistoryEntry
from tests.factories import make_world
from tests.gateway.wire import body, post_json, raw_body
from worlds.models import WorldAuditLog

pytestmark = pytest.mark.django_db

WORLD = "crypto_mom_1h"
URL = f"/worlds/{WORLD}/history"
FIXTURE = "history_metadata.json"


@pytest.fixture
def gateway_world(owner):
    return make_world(owner=owner, world_id=WORLD, allow_live=True, approvals_required=0)


@pytest.fixture
def client(owner, client_for):
    return client_for(owner)


def _nothing_stored() -> None:
    assert not HistoryEntry.objects.exists()
    assert not WorldAuditLog.objects.filter(event="history_upserted").exists()


def test_history__gateway_body_as_sent__stored_with_its_extra_fields(gateway_world, client):
    response = post_json(client, URL, raw_body(FIXTURE))

    assert response.status_code == 204, response.content
    entry = HistoryEntry.objects.get(world=gateway_world, strategy_id="s-mom-01")
    assert entry.reported_updated_at == dt.datetime(2025, 8, 29, 0, 0, 5, tzinfo=dt.UTC)
    assert entry.execution_domain == "live"
    assert entry.dataset_fingerprint == "lake:blake3:4be1c0"
    assert entry.coverage_bounds == [1756339200, 1756425540]
    assert entry.rows == 1440


def test_history__gateway_fields__shown_on_get(gateway_world, client):
    post_json(client, URL, raw_body(FIXTURE))

    listed = client.get(URL).json()

    (entry,) = listed["entries"]
    assert entry["execution_domain"] == "live"
    assert entry["reported_updated_at"] == "2025-08-29T00:00:05Z"
    assert entry["as_of"] == "2025-08-28T23:59:00Z"
    assert listed["latest"] == entry


def test_history__posted_the_gateway_way__lets_decide_reach_live(gateway_world, client):
    client.post(f"/worlds/{WORLD}/bindings", {"strategies": ["s-mom-01"]}, format="json")
    client.post(f"/worlds/{WORLD}/decisions", {"strategies": ["s-mom-01"]}, format="json")
    assert client.get(f"/worlds/{WORLD}/decide").json()["effective_mode"] == "compute-only"

    assert post_json(client, URL, raw_body(FIXTURE)).status_code == 204

    decision = client.get(f"/worlds/{WORLD}/decide").json()
    assert decision["effective_mode"] == "live"
    assert decision["reason"] == (
        "bindings_present&decisions_present&allow_live&dataset_fingerprint_ok&metrics_ok"
    )
    assert decision["dataset_fingerprint"] == "lake:blake3:4be1c0"
    assert decision["as_of"] == "2025-08-28T23:59:00Z"


def test_history__microseconds_and_the_nulls_the_gateway_sends__accepted(gateway_world, client):
    payload = {
        **body(FIXTURE),
        "rows": None,
        "coverage_bounds": None,
        "artifact": None,
        "dataset_fingerprint": None,
        "as_of": None,
        "updated_at": "2025-08-29T00:00:05.123456Z",
    }

    assert post_json(client, URL, payload).status_code == 204

    (entry,) = client.get(URL).json()["entries"]
    assert entry["reported_updated_at"] == "2025-08-29T00:00:05.123456Z"
    assert entry["rows"] is None
    assert entry["dataset_fingerprint"] is None
    assert entry["coverage_bounds"] is None


def test_history__without_world_id_and_execution_domain__accepted(gateway_world, client):
    payload = body(FIXTURE)
    del payload["world_id"], payload["execution_domain"]

    assert post_json(client, URL, payload).status_code == 204

    entry = HistoryEntry.objects.get()
    assert entry.execution_domain is None
    assert entry.reported_updated_at is not None


def test_history__unrecognised_execution_domain__stored_lower_cased(gateway_world, client):
    assert post_json(client, URL, {**body(FIXTURE), "execution_domain": "Paper-X"}).status_code == (
        204
    )

    assert HistoryEntry.objects.get().execution_domain == "paper-x"


def test_history__world_id_of_another_world__400_naming_both(gateway_world, client):
    response = post_json(client, URL, {**body(FIXTURE), "world_id": "other_world"})

    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "invalid"
    (message,) = problem["errors"]["world_id"]
    assert "'other_world'" in message
    assert f"'{WORLD}'" in message
    _nothing_stored()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"checksum": "abc"}, "checksum"),  # one key the Gateway does not send
        ({"updated_at": "2025-08-29T00:00:05"}, "updated_at"),  # no offset
        ({"updated_at": "yesterday"}, "updated_at"),
        ({"execution_domain": "x" * 33}, "execution_domain"),
        ({"execution_domain": ""}, "execution_domain"),
        ({"execution_domain": 7}, "execution_domain"),
        ({"world_id": None}, "world_id"),
    ],
)
def test_history__body_beyond_the_gateways__400_nothing_stored(
    gateway_world, client, change, field
):
    response = post_json(client, URL, {**body(FIXTURE), **change})

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    _nothing_stored()


def test_history__upsert_records_the_gateway_fields_in_the_audit_row(gateway_world, client):
    post_json(client, URL, raw_body(FIXTURE))

    row = WorldAuditLog.objects.get(event="history_upserted")
    assert row.request["execution_domain"] == "live"
    assert row.request["reported_updated_at"] == "2025-08-29T00:00:05Z"
    assert "world_id" not in row.request
