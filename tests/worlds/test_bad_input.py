"""Hostile and malformed input on every write route: a 4xx JSON error and nothing stored."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory, override_worldservice
from worlds.models import World, WorldAuditLog, WorldUserObjectPermission

pytestmark = pytest.mark.django_db

WRITE_ROUTES = [
    ("post", "/worlds"),
    ("put", "/worlds/alpha"),
    ("patch", "/worlds/alpha"),
    ("put", "/worlds/alpha/members/bob"),
]
MALFORMED = [
    b'{"id": "w9", "name": ',  # truncated
    b"\xff\xfe\x00garbage",  # not UTF-8
    b'{"id": "w9", "id": "w8", "name": "x"}',  # duplicate key
    b"[" * 5000 + b"]" * 5000,  # deep nesting
    b'"just a string"',
    b"[1, 2, 3]",
    b'{"name": "a\\u0000b", "id": "w9"}',  # NUL cannot be stored
    b'{"name": "\\ud800", "id": "w9"}',  # lone surrogate
]


@pytest.fixture
def writer(world, owner):
    owner.user_permissions.add(Permission.objects.get(codename="add_world"))
    UserFactory(username="bob")
    return owner


def _state():
    return (
        list(World.objects.order_by("id").values()),
        WorldAuditLog.objects.count(),
        WorldUserObjectPermission.objects.count(),
    )


@pytest.mark.parametrize("method,path", WRITE_ROUTES)
@pytest.mark.parametrize("payload", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_body__400_json_and_nothing_stored(writer, client_for, method, path, payload):
    client = client_for(writer)
    before = _state()

    response = getattr(client, method)(path, payload, content_type="application/json")

    assert response.status_code == 400, response.content
    assert {"detail", "code"} <= set(response.json())
    assert _state() == before


@pytest.mark.parametrize(
    "body,field",
    [
        ({"id": "Bad Id", "name": "x"}, "id"),
        ({"id": "-leading", "name": "x"}, "id"),
        ({"id": "a" * 65, "name": "x"}, "id"),
        ({"id": "ünïcode", "name": "x"}, "id"),
        ({"id": "w9", "name": 5}, "name"),
        ({"id": "w9", "name": "x" * 201}, "name"),
        ({"id": "w9", "name": "x", "allow_live": "yes"}, "allow_live"),
        ({"id": "w9", "name": "x", "approvals_required": 6}, "approvals_required"),
        ({"id": "w9", "name": "x", "approvals_required": "1"}, "approvals_required"),
        ({"id": "w9", "name": "x", "approvals_required": True}, "approvals_required"),
        ({"id": "w9", "name": "x", "state": "GONE"}, "state"),
        ({"id": "w9", "name": "x", "labels": "crypto"}, "labels"),
        ({"id": "w9", "name": "x", "labels": ["has space"]}, "labels[0]"),
        ({"id": "w9", "name": "x", "surprise": True}, "surprise"),
        ({"name": "x"}, "id"),
    ],
)
def test_create_world__invalid_field__400_names_the_field(writer, client_for, body, field):
    client = client_for(writer)
    before = _state()

    response = client.post("/worlds", body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert _state() == before


def test_create_world__odd_but_valid_unicode_name__stored_verbatim(writer, client_for):
    name = "Wörld 🌍 \u200b右"

    response = client_for(writer).post("/worlds", {"id": "w9", "name": name}, format="json")

    assert response.status_code == 201
    assert World.objects.get(pk="w9").name == name


def test_oversized_body__413_and_nothing_stored(writer, client_for):
    client = client_for(writer)
    before = _state()
    body = json.dumps({"id": "w9", "name": "x", "description": "d" * 5000})

    with override_worldservice(MAX_BODY_BYTES=2048):
        response = client.post("/worlds", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert _state() == before


def test_other_media_type__415(writer, client_for):
    response = client_for(writer).post(
        "/worlds", "id=w9&name=x", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_unknown_route__404_json(client_for, writer):
    response = client_for(writer).get("/nowhere/at/all")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_invalid_token__401_json(world, client_for):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = client.get("/worlds/alpha")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_create_world__read_only_field__400_says_read_only(writer, client_for):
    response = client_for(writer).post(
        "/worlds", {"id": "w9", "name": "x", "owner": "bob"}, format="json"
    )

    assert response.status_code == 400
    assert "read-only" in response.json()["errors"]["owner"][0]
