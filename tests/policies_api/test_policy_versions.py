"""Policy versions over HTTP: upload forms, reads, diff, invalid uploads, concurrency."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from policies.models import WorldPolicy
from tests.factories import UserFactory, make_world, token_for
from worlds.models import World, WorldAuditLog, WorldEvent

pytestmark = pytest.mark.django_db

POLICY_YAML = """\
# momentum world
selection:
  gates:
    and:
      - "sharpe >= 0.6"
      - "max_drawdown <= 0.25"
  topk: {total: 3}
"""


def _upload(client, world_id="alpha", **body):
    return client.post(f"/worlds/{world_id}/policies", body, format="json")


def test_upload_yaml__201_draft_with_checksum_of_exact_text(world, owner, client_for):
    client = client_for(owner)

    response = _upload(client, yaml=POLICY_YAML)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {
        "version": 1,
        "status": "DRAFT",
        "checksum": "sha256:" + hashlib.sha256(POLICY_YAML.encode()).hexdigest(),
    }
    stored = client.get("/worlds/alpha/policies/1").json()
    assert stored["yaml"] == POLICY_YAML
    assert stored["created_by"] == "olivia"
    assert stored["approved"] is False
    assert stored["policy"]["selection"]["topk"]["total"] == 3
    assert WorldAuditLog.objects.filter(world_id="alpha", event="policy_added").count() == 1


def test_upload_raw_yaml_body__stored_verbatim(world, owner, client_for):
    client = client_for(owner)

    response = client.post("/worlds/alpha/policies", POLICY_YAML, content_type="application/yaml")

    assert response.status_code == 201
    assert WorldPolicy.objects.get(world_id="alpha", version=1).yaml == POLICY_YAML


def test_upload_text_yaml_content_type__accepted(world, owner, client_for):
    response = client_for(owner).post(
        "/worlds/alpha/policies", POLICY_YAML, content_type="text/yaml"
    )

    assert response.status_code == 201


def test_upload_policy_document__stored_as_canonical_yaml(world, owner, client_for):
    client = client_for(owner)

    response = _upload(client, policy={"selection": {"gates": ["sharpe >= 1"]}})

    assert response.status_code == 201
    stored = WorldPolicy.objects.get(world_id="alpha", version=1)
    assert "sharpe >= 1" in stored.yaml
    assert stored.checksum == "sha256:" + hashlib.sha256(stored.yaml.encode()).hexdigest()


def test_upload_preset_with_overrides__normalised(world, owner, client_for):
    client = client_for(owner)

    response = _upload(client, preset="conservative", preset_overrides={"sharpe.min": 1.2})

    assert response.status_code == 201
    document = client.get("/worlds/alpha/policies/1").json()["policy"]
    assert "sharpe >= 1.2" in str(document)


def test_get_version__accept_yaml__exact_text(world, owner, client_for):
    client = client_for(owner)
    _upload(client, yaml=POLICY_YAML)

    response = client.get("/worlds/alpha/policies/1", HTTP_ACCEPT="application/yaml")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert response.content.decode() == POLICY_YAML


def test_list_versions__ascending_summaries(world, owner, client_for):
    client = client_for(owner)
    for _ in range(3):
        _upload(client, yaml=POLICY_YAML)

    listing = client.get("/worlds/alpha/policies").json()

    assert [row["version"] for row in listing] == [1, 2, 3]
    assert set(listing[0]) == {
        "version",
        "status",
        "checksum",
        "created_by",
        "created_at",
        "approved",
    }


@pytest.mark.parametrize("version", ["9", "0", "abc", "-1"])
def test_get_version__unknown__404(world, owner, client_for, version):
    assert client_for(owner).get(f"/worlds/alpha/policies/{version}").status_code == 404


def test_diff__against_default_and_explicit(world, owner, client_for):
    world.approvals_required = 0
    world.save()
    client = client_for(owner)
    _upload(client, yaml=POLICY_YAML)  # becomes default (no approvals needed)
    _upload(client, yaml=POLICY_YAML.replace("0.6", "0.8"))

    diff = client.get("/worlds/alpha/policies/2/diff").json()["diff"]
    explicit = client.get("/worlds/alpha/policies/2/diff?against=1").json()["diff"]

    assert '-      - "sharpe >= 0.6"' in diff
    assert '+      - "sharpe >= 0.8"' in diff
    assert diff == explicit
    assert client.get("/worlds/alpha/policies/2/diff?against=7").status_code == 404


@pytest.mark.parametrize(
    "body,path",
    [
        ({"yaml": "selection: {gates: ['sharpe >= ']}"}, "selection.gates[0]"),
        ({"yaml": "selection:\n  gates: [\n"}, "yaml"),
        ({"yaml": "bogus_section: 1"}, "bogus_section"),
        ({"policy": {"selection": {"topk": {"total": 0}}}}, "selection.topk.total"),
        ({"preset": "reckless"}, "preset"),
        ({"yaml": "a", "preset": "sandbox"}, "body"),
        ({}, "body"),
        ({"policy": "not a mapping"}, "policy"),
        ({"yaml": 5}, "yaml"),
        ({"yaml": "x", "extra": 1}, "extra"),
    ],
)
def test_upload_invalid__400_with_path_and_nothing_stored(world, owner, client_for, body, path):
    client = client_for(owner)
    audit_rows = WorldAuditLog.objects.count()

    response = _upload(client, **body)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert any(key == path or key.startswith(path) for key in errors), errors
    assert not WorldPolicy.objects.exists()
    assert WorldAuditLog.objects.count() == audit_rows


def test_upload_yaml_syntax_error__line_and_column(world, owner, client_for):
    response = _upload(client_for(owner), yaml="selection:\n  gates: [\n")

    assert response.json()["errors"]["yaml"][0].startswith("line ")


def test_upload_invalid__default_stays(world, owner, client_for):
    world.approvals_required = 0
    world.save()
    client = client_for(owner)
    _upload(client, yaml=POLICY_YAML)

    _upload(client, yaml="selection: {gates: [1]}")

    assert World.objects.get(pk="alpha").default_policy_version == 1
    assert WorldPolicy.objects.count() == 1


def test_first_upload__no_approvals_required__becomes_active_default(owner, client_for):
    make_world(owner=owner, world_id="open", approvals_required=0)
    client = client_for(owner)

    response = _upload(client, world_id="open", yaml=POLICY_YAML)

    assert response.json()["status"] == "ACTIVE"
    assert World.objects.get(pk="open").default_policy_version == 1
    event = WorldEvent.objects.get(world_id="open", type="policy_updated")
    assert event.data["policy_version"] == 1
    assert event.data["status"] == "ACTIVE"


def test_stored_version__content_refused_by_database(world, owner, client_for):
    _upload(client_for(owner), yaml=POLICY_YAML)

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE policies_worldpolicy SET yaml = 'x'")


def test_describe__default_policy_and_summary(owner, client_for):
    make_world(owner=owner, world_id="open", approvals_required=0)
    client = client_for(owner)
    _upload(client, world_id="open", yaml=POLICY_YAML)

    body = client.get("/worlds/open/describe").json()

    assert body["policy"]["selection"]["topk"]["total"] == 3
    assert "sharpe >= 0.6" in body["policy_human"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads__versions_1_to_10_without_gaps():
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="alpha")
    secret = token_for(owner)
    barrier = Barrier(10)

    def upload(index: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        try:
            response = client.post(
                "/worlds/alpha/policies", {"yaml": POLICY_YAML + f"# {index}\n"}, format="json"
            )
            return response.json()["version"]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        versions = sorted(pool.map(upload, range(10)))

    assert versions == list(range(1, 11))
    assert sorted(WorldPolicy.objects.values_list("version", flat=True)) == list(range(1, 11))
