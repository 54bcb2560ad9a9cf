"""docs/openapi.yaml describes what the service answers (docs/testing.md, "Schemathesis").

`bin/schemathesis` fuzzes every operation against a live server; these tests pin the shapes
it found wrong: ActivationRead's `oneOf` (each answer matches exactly one alternative), closed
request and answer objects, the errors every route may give, and the audit exports' media types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from activation.services.overrides import override_activation
from tests.factories import UserFactory, make_world, token_for
from worlds.api.serializers import WorldOutSerializer

pytestmark = pytest.mark.django_db

SCHEMA = yaml.safe_load((Path(__file__).parents[2] / "docs" / "openapi.yaml").read_text())
COMPONENTS = SCHEMA["components"]["schemas"]
METHODS = ("get", "put", "post", "patch", "delete")


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable` spelled as JSON Schema (`null` among the types; drf-spectacular
    already lists a `NullEnum` choice beside a nullable `oneOf`)."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    if isinstance(converted.get("$ref"), str):
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    return converted


DEFS = _as_json_schema(COMPONENTS)


def _matches(value: Any, component: str) -> bool:
    schema = {"$ref": f"#/$defs/{component}", "$defs": DEFS}
    return jsonschema.Draft202012Validator(schema).is_valid(value)


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in SCHEMA["paths"].items()
        for method in METHODS
        if method in item
    ]


@pytest.fixture
def admin():
    user = UserFactory(username="root", is_superuser=True, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_worldauditlog"))
    make_world(owner=user, world_id="alpha", approvals_required=0)
    return user


@pytest.fixture
def api(admin) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(admin)}")
    return client


def test_activation_read__each_answer_matches_exactly_one_alternative(api, admin):
    override_activation(actor=admin, world_id="alpha", strategy_id="s1", side="long", active=True)
    answers = {
        "ActivationEnvelope": api.get(
            "/worlds/alpha/activation", {"strategy_id": "s1", "side": "long"}
        ),
        "ActivationSet": api.get("/worlds/alpha/activation"),
        "ActivationAt": api.get("/worlds/alpha/activation", {"at": "2030-01-01T00:00:00Z"}),
    }
    alternatives = ("ActivationEnvelope", "ActivationSet", "ActivationAt")
    for expected, response in answers.items():
        assert response.status_code == 200, response.content
        matching = [name for name in alternatives if _matches(response.json(), name)]
        assert matching == [expected]
        assert _matches(response.json(), "ActivationRead")


def test_world_answers__exactly_the_output_serializers_fields(api):
    listed = api.get("/worlds").json()["results"]
    one = api.get("/worlds/alpha").json()

    assert set(one) == set(WorldOutSerializer().fields)
    assert listed == [one]
    assert _matches(one, "WorldOut")
    assert not _matches({**one, "surprise": 1}, "WorldOut")


def test_request_bodies_that_refuse_unknown_keys__say_so():
    body = COMPONENTS["WorldCreateRequest"]

    assert body["additionalProperties"] is False
    assert COMPONENTS["ActivationOverrideRequest"]["additionalProperties"] is False


def test_every_operation__documents_throttling_outages_and_the_body_limit():
    for path, method, operation in _operations():
        codes = set(operation["responses"])
        assert {"429", "503"} <= codes, (method, path)
        if "requestBody" in operation:
            assert "413" in codes, (method, path)


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("csv", "text/csv"), ("jsonl", "application/x-ndjson")]
)
def test_audit_exports__their_media_types_are_documented(api, fmt, media_type):
    response = api.get("/worlds/alpha/audit", {"format": fmt})

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == media_type
    for path in ("/audit", "/worlds/{world_id}/audit"):
        assert media_type in SCHEMA["paths"][path]["get"]["responses"]["200"]["content"]


def test_limit__documented_as_at_least_one_and_refused_below(api):
    limits = [
        parameter["schema"]
        for _, _, operation in _operations()
        for parameter in operation.get("parameters", [])
        if parameter["name"] == "limit"
    ]
    assert limits
    assert all(schema == {"type": "integer", "minimum": 1} for schema in limits)
    for raw in ("", "0"):
        response = api.get("/worlds", {"limit": raw})
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
        assert "limit" in response.json()["errors"]
