"""The audit log: append-only in the database, hash-chained, filtered, exported."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import DatabaseError, connection, transaction

from tests.factories import UserFactory, make_world
from worlds.audit import record_audit, verify_chain
from worlds.models import WorldAuditLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor():
    return UserFactory(username="audrey", permissions=["worlds.view_worldauditlog"])


def _some_rows(owner, client_for):
    client = client_for(owner)
    client.patch("/worlds/alpha", {"name": "A2"}, format="json", HTTP_X_CORRELATION_ID="c-1")
    client.patch("/worlds/alpha", {"circuit_breaker": True}, format="json")


def test_raw_update__refused_by_database(world):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE worlds_worldauditlog SET actor = 'mallory'")

    assert not WorldAuditLog.objects.filter(actor="mallory").exists()


def test_raw_delete__refused_by_database(world):
    count = WorldAuditLog.objects.count()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM worlds_worldauditlog")

    assert WorldAuditLog.objects.count() == count


def test_orm_update__refused_by_database(world):
    with pytest.raises(DatabaseError), transaction.atomic():
        WorldAuditLog.objects.update(event="world_updated")


@pytest.mark.django_db(transaction=True)
def test_record_audit__outside_a_transaction__refused():
    with pytest.raises(RuntimeError):
        record_audit(event="world_updated", actor="x", world_id="alpha")


def test_hash_chain__each_row_links_to_previous_of_same_world(world, owner, client_for):
    _some_rows(owner, client_for)
    rows = list(WorldAuditLog.objects.filter(world_id="alpha").order_by("id"))

    assert rows[0].prev_hash == ""
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert later.prev_hash == earlier.hash
    assert verify_chain(rows).ok


def test_verify__untouched_log__ok_with_count(world, owner, client_for, auditor):
    _some_rows(owner, client_for)

    body = client_for(auditor).get("/audit/verify?world_id=alpha").json()

    assert body == {"ok": True, "checked": 3}


def test_verify__row_edited_with_trigger_disabled__reported_broken(
    world, owner, client_for, auditor
):
    _some_rows(owner, client_for)
    tampered = WorldAuditLog.objects.filter(world_id="alpha").order_by("id")[1]
    with connection.cursor() as cursor:  # a database owner can do this; the chain still tells
        cursor.execute(
            "ALTER TABLE worlds_worldauditlog DISABLE TRIGGER worlds_worldauditlog_append_only"
        )
        cursor.execute(
            "UPDATE worlds_worldauditlog SET actor = 'mallory' WHERE id = %s", [tampered.id]
        )
        cursor.execute(
            "ALTER TABLE worlds_worldauditlog ENABLE TRIGGER worlds_worldauditlog_append_only"
        )

    body = client_for(auditor).get("/audit/verify?world_id=alpha").json()

    assert body["ok"] is False
    assert body["broken"]["id"] == tampered.id
    assert body["checked"] == 1


def test_world_audit__filters_event_actor_and_time(world, owner, client_for):
    _some_rows(owner, client_for)
    client = client_for(owner)

    updates = client.get("/worlds/alpha/audit?event=world_updated").json()["results"]
    assert [row["event"] for row in updates] == ["world_updated", "world_updated"]
    assert updates[0]["correlation_id"] == "c-1"
    assert client.get("/worlds/alpha/audit?actor=nobody").json()["results"] == []
    assert client.get("/worlds/alpha/audit?since=2999-01-01T00:00:00Z").json()["results"] == []
    assert len(client.get("/worlds/alpha/audit?until=2999-01-01T00:00:00Z").json()["results"]) == 3
    assert client.get("/worlds/alpha/audit?since=yesterday").status_code == 400


def test_world_audit__row_shape_oldest_first(world, owner, client_for):
    _some_rows(owner, client_for)

    rows = client_for(owner).get("/worlds/alpha/audit").json()["results"]

    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert set(rows[0]) == {
        "id",
        "world_id",
        "actor",
        "event",
        "request",
        "result",
        "created_at",
        "correlation_id",
        "prev_hash",
        "hash",
    }
    assert rows[0]["actor"] == "olivia"


def test_global_audit__world_id_filter(world, owner, client_for, auditor):
    make_world(owner=owner, world_id="beta")

    rows = client_for(auditor).get("/audit?world_id=beta").json()["results"]

    assert {row["world_id"] for row in rows} == {"beta"}


def test_export_csv__streams_filtered_rows(world, owner, client_for, auditor):
    _some_rows(owner, client_for)

    response = client_for(auditor).get("/audit?world_id=alpha&format=csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["event"] for row in table] == ["world_created", "world_updated", "world_updated"]
    assert json.loads(table[1]["request"]) == {"name": "A2"}


def test_export_jsonl__one_object_per_line(world, owner, client_for):
    _some_rows(owner, client_for)

    response = client_for(owner).get("/worlds/alpha/audit?format=jsonl&event=world_updated")

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["world_updated", "world_updated"]


def test_export__unknown_format__400(world, owner, client_for):
    assert client_for(owner).get("/worlds/alpha/audit?format=xml").status_code == 400


def test_failed_write__leaves_no_audit_row(world, owner, client_for):
    client = client_for(owner)
    count = WorldAuditLog.objects.count()

    client.patch("/worlds/alpha", {"approvals_required": 9}, format="json")

    assert WorldAuditLog.objects.count() == count


def test_hash_chain__numbers_jsonb_respells__still_verifies(world):
    with transaction.atomic():
        record_audit(
            event="world_updated",
            actor="t",
            world_id="alpha",
            request={"big": 1e20, "one": 1.0, "tiny": 1e-7, "nan": float("nan")},
        )

    rows = list(WorldAuditLog.objects.filter(world_id="alpha").order_by("id"))

    assert rows[-1].request["nan"] == "NaN"
    assert verify_chain(rows).ok
