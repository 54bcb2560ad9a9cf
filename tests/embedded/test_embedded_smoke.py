"""The embedded default (SQLite file, in-process tasks, no Redis) works end to end."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client

from tests.factories import UserFactory
from worlds.models import World, WorldAuditLog, WorldChange, WorldChangeApproval

pytestmark = pytest.mark.django_db


def test_embedded_settings__sqlite_eager_tasks_no_redis():
    assert connection.vendor == "sqlite"
    assert settings.CELERY_TASK_ALWAYS_EAGER is True
    assert not settings.REDIS_URL


def test_world_lifecycle__create_update_audit(client_for):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    client = client_for(owner)

    assert client.post("/worlds", {"id": "demo", "name": "Demo"}, format="json").status_code == 201
    assert client.patch("/worlds/demo", {"name": "Demo 2"}, format="json").status_code == 200

    events = [row["event"] for row in client.get("/worlds/demo/audit").json()["results"]]
    assert events == ["world_created", "world_updated"]


def test_audit_rows__append_only_on_sqlite_too(client_for):
    owner = UserFactory(permissions=["worlds.add_world"])
    client_for(owner).post("/worlds", {"id": "demo", "name": "Demo"}, format="json")

    for statement in (
        "UPDATE worlds_worldauditlog SET actor = 'x'",
        "DELETE FROM worlds_worldauditlog",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)

    assert not WorldAuditLog.objects.filter(actor="x").exists()


def test_governed_change__held_applied_and_immutable_on_sqlite_too(client_for):
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    approver = UserFactory(username="abby", permissions=["policies.approve_worldpolicy"])
    client_for(owner).post("/worlds", {"id": "demo", "name": "Demo"}, format="json")

    held = client_for(owner).patch("/worlds/demo", {"allow_live": True}, format="json")
    assert held.status_code == 202
    url = held["Location"]
    approved = client_for(approver).post(f"{url}/approve", {}, format="json")

    assert approved.json()["status"] == "APPLIED"
    assert World.objects.get(pk="demo").allow_live is True
    with pytest.raises(DatabaseError), transaction.atomic():
        WorldChange.objects.update(changes={})
    with pytest.raises(DatabaseError), transaction.atomic():
        WorldChangeApproval.objects.update(comment="edited")


def test_label_filter__works_without_postgresql_json_operators(client_for):
    owner = UserFactory(permissions=["worlds.add_world"])
    client = client_for(owner)
    client.post("/worlds", {"id": "a", "name": "A", "labels": ["crypto"]}, format="json")
    client.post("/worlds", {"id": "b", "name": "B", "labels": ["fx"]}, format="json")

    ids = [w["id"] for w in client.get("/worlds?label=crypto").json()["results"]]

    assert ids == ["a"]


def test_readyz__only_database_checked():
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database"}
