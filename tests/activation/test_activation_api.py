"""The activation API: shapes, ETags, preconditions, conflicts, bad input and roles."""

from __future__ import annotations

import re

import pytest

from activation.models import ActivationSnapshot
from activation.store import get_store
from tests.factories import UserFactory, unfinished_apply_run
from worlds.models import ReviewDecision, WorldAuditLog, WorldEvent
from worlds.services.changes import review_world_change
from worlds.services.worlds import update_world

pytestmark = pytest.mark.django_db


def _stored(strategy_id: str = "s1", side: str = "long") -> dict:
    """The stored entry of world alpha (which must exist)."""
    entry = get_store().get("alpha", strategy_id, side).entry
    assert entry is not None
    return entry


URL = "/worlds/alpha/activation"
ENTRY = URL + "?strategy_id=abcd&side=long"
ENVELOPE_KEYS = [
    "world_id", "strategy_id", "side", "active", "weight", "freeze", "drain", "effective_mode",
    "etag", "run_id", "ts", "expires_at", "state_hash",
]  # fmt: skip
BODY = {"strategy_id": "abcd", "side": "long", "active": True, "run_id": "7a1b4c"}


def _put(client, body=None, **headers):
    return client.put(URL, BODY if body is None else body, format="json", **headers)


def test_put__operator__200_envelope_with_etag_header(world, operator, client_for, backend):
    response = _put(client_for(operator))

    assert response.status_code == 200, response.content
    _assert_first_envelope(response.json())
    assert response["ETag"] == '"act:alpha:abcd:long:1"'


def _assert_first_envelope(body):
    assert list(body) == ENVELOPE_KEYS
    assert body["world_id"] == "alpha" and body["strategy_id"] == "abcd"
    assert body["active"] is True and body["weight"] == 1.0 and body["run_id"] == "7a1b4c"
    assert body["freeze"] is False and body["drain"] is False and body["effective_mode"] is None
    assert body["etag"] == "act:alpha:abcd:long:1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["ts"])
    assert body["expires_at"] is None
    assert body["state_hash"].startswith("sha256:")


def test_get_entry__after_put__same_envelope(world, operator, reader, client_for, backend):
    put = _put(client_for(operator)).json()

    response = client_for(reader).get(ENTRY)

    assert response.status_code == 200
    assert response.json() == put
    assert response["ETag"] == f'"{put["etag"]}"'
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("form", ['"{etag}"', "{etag}", 'W/"{etag}"', '"x", "{etag}"', "*"])
def test_get_entry__if_none_match__304(world, operator, client_for, form):
    etag = _put(client_for(operator)).json()["etag"]

    response = client_for(operator).get(ENTRY, HTTP_IF_NONE_MATCH=form.format(etag=etag))

    assert response.status_code == 304
    assert response["ETag"] == f'"{etag}"'
    assert response.content == b""


def test_get_entry__if_none_match_old_etag__200(world, operator, client_for):
    client = client_for(operator)
    old = _put(client).json()["etag"]
    _put(client, {**BODY, "weight": 0.5})

    response = client.get(ENTRY, HTTP_IF_NONE_MATCH=f'"{old}"')

    assert response.status_code == 200
    assert response.json()["weight"] == 0.5


def test_get_entry__no_entry__404_json(world, reader, client_for, backend):
    response = client_for(reader).get(ENTRY)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?strategy_id=abcd", "side"),
        ("?side=long", "strategy_id"),
        ("?strategy_id=abcd&side=up", "side"),
        ("?strategy_id=&side=long", "strategy_id"),
        ("?strategy_id=a%20b&side=long", "strategy_id"),
        ("?strategy_id=a%7Cb&side=long", "strategy_id"),
        ("?strategy_id=abcd&side=long&at=2025-01-01T00:00:00Z", "at"),
        ("?at=yesterday", "at"),
        ("?at=2025-01-01T00:00:00", "at"),
    ],
)
def test_get__bad_query__400(world, reader, client_for, query, field):
    response = client_for(reader).get(URL + query)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and field in body["errors"]


def test_get_set__no_query__world_version_hash_entries(world, operator, client_for, backend):
    client = client_for(operator)
    _put(client)
    _put(client, {"strategy_id": "b", "side": "short", "active": False})

    response = client.get(URL)

    body = response.json()
    assert list(body) == ["world_id", "version", "state_hash", "entries"]
    assert body["world_id"] == "alpha" and body["version"] == 2
    assert [(e["strategy_id"], e["side"]) for e in body["entries"]] == [
        ("abcd", "long"),
        ("b", "short"),
    ]
    assert all(list(entry) == ENVELOPE_KEYS for entry in body["entries"])
    assert body["state_hash"] == client.get(URL + "/state_hash").json()["state_hash"]
    etag = response["ETag"]
    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_get_set__empty_world__version_0(world, reader, client_for, backend):
    body = client_for(reader).get(URL).json()

    assert (body["version"], body["entries"]) == (0, [])


def test_state_hash__shape_and_changes_with_writes(world, operator, client_for, backend):
    client = client_for(operator)
    empty = client.get(URL + "/state_hash").json()
    _put(client)

    after = client.get(URL + "/state_hash").json()

    # docs/contract.md#activation's {state_hash, version}, within the Gateway's superset (one
    # route for every topic: docs/api.md#state-hashes).
    assert list(after) == ["world_id", "topic", "state_hash", "version"]
    assert (after["world_id"], after["topic"]) == ("alpha", "activation")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", after["state_hash"])
    assert (empty["version"], after["version"]) == (0, 1)
    assert empty["state_hash"] != after["state_hash"]
    assert client.get(ENTRY).json()["state_hash"] == after["state_hash"]


def test_put__versions_increase_etag_follows(world, operator, client_for):
    client = client_for(operator)

    etags = [_put(client, {**BODY, "weight": w}).json()["etag"] for w in (1.0, 0.5, 0.25)]

    assert etags == [f"act:alpha:abcd:long:{n}" for n in (1, 2, 3)]


def test_put__if_match_current__200(world, operator, client_for, backend):
    client = client_for(operator)
    etag = _put(client).json()["etag"]

    response = _put(client, {**BODY, "active": False}, HTTP_IF_MATCH=f'"{etag}"')

    assert response.status_code == 200
    assert response.json()["active"] is False


def test_put__if_match_stale__412_nothing_stored(world, operator, client_for, backend):
    client = client_for(operator)
    stale = _put(client).json()["etag"]
    _put(client, {**BODY, "weight": 0.5})

    response = _put(client, {**BODY, "active": False}, HTTP_IF_MATCH=f'"{stale}"')

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    assert _stored("abcd", "long")["active"] is True
    assert get_store().version("alpha") == 2


def test_put__if_match_on_missing_entry__412(world, operator, client_for):
    response = _put(client_for(operator), HTTP_IF_MATCH='"act:alpha:abcd:long:1"')

    assert response.status_code == 412
    assert client_for(operator).get(ENTRY).status_code == 404


def test_put__apply_in_flight__409_apply_in_progress(world, operator, client_for, backend):
    run = unfinished_apply_run(world)

    response = _put(client_for(operator))

    assert response.status_code == 409
    assert response.json()["code"] == "apply_in_progress"
    assert response["Retry-After"]
    assert client_for(operator).get(ENTRY).status_code == 404
    run.phase = "completed"
    run.save()
    assert _put(client_for(operator)).status_code == 200


def test_put__live_without_allow_live__409_live_not_allowed(world, owner, operator, client_for):
    response = _put(client_for(operator), {**BODY, "effective_mode": "live"})

    assert response.status_code == 409
    assert response.json()["code"] == "live_not_allowed"
    assert get_store().get("alpha", "abcd", "long").entry is None

    # Turning allow_live on is held for a second person (docs/api.md, governed world changes).
    held = update_world(actor=owner, world_id="alpha", changes={"allow_live": True}).pending
    approver = UserFactory(permissions=["policies.approve_worldpolicy"])
    review_world_change(
        actor=approver, world_id="alpha", change_id=held.id, decision=ReviewDecision.APPROVE
    )
    allowed = _put(client_for(operator), {**BODY, "effective_mode": "live"})
    assert allowed.status_code == 200
    assert allowed.json()["effective_mode"] == "live"


def test_put__deleted_world__409_world_deleted(world, owner, operator, client_for):
    update_world(actor=owner, world_id="alpha", changes={"state": "DELETED"})

    response = _put(client_for(operator))

    assert response.status_code == 409
    assert response.json()["code"] == "world_deleted"


def test_put__suspended_world__only_gating_off(world, owner, operator, client_for):
    update_world(actor=owner, world_id="alpha", changes={"state": "SUSPENDED"})
    client = client_for(operator)

    enabling = _put(client)
    gated = _put(client, {**BODY, "freeze": True})
    inactive = _put(client, {**BODY, "strategy_id": "b", "active": False})

    assert enabling.status_code == 409 and enabling.json()["code"] == "world_suspended"
    assert (gated.status_code, inactive.status_code) == (200, 200)


BAD_BODIES = [
    ({**BODY, "colour": "red"}, "colour"),
    ({**BODY, "weight": 1.5}, "weight"),
    ({**BODY, "weight": -0.1}, "weight"),
    ({**BODY, "weight": "1"}, "weight"),
    ({**BODY, "weight": True}, "weight"),
    ({**BODY, "side": "up"}, "side"),
    ({**BODY, "strategy_id": "a b"}, "strategy_id"),
    ({**BODY, "strategy_id": "a|b"}, "strategy_id"),
    ({**BODY, "strategy_id": ""}, "strategy_id"),
    ({**BODY, "strategy_id": "s" * 129}, "strategy_id"),
    ({**BODY, "strategy_id": 7}, "strategy_id"),
    ({**BODY, "run_id": "bad id"}, "run_id"),
    ({**BODY, "run_id": "r" * 129}, "run_id"),
    ({**BODY, "ttl_seconds": 0}, "ttl_seconds"),
    ({**BODY, "ttl_seconds": 1.5}, "ttl_seconds"),
    ({**BODY, "ttl_seconds": "5"}, "ttl_seconds"),
    ({**BODY, "active": "true"}, "active"),
    ({**BODY, "freeze": 1}, "freeze"),
    ({**BODY, "effective_mode": "turbo"}, "effective_mode"),
    ({"strategy_id": "abcd", "side": "long"}, "active"),
    ({"side": "long", "active": True}, "strategy_id"),
    ([BODY], "body"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES)
def test_put__bad_input__400_nothing_stored(world, operator, client_for, body, field):
    response = _put(client_for(operator), body)

    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["code"] == "invalid" and field in payload["errors"]
    assert get_store().hash_state("alpha").version == 0
    assert not WorldAuditLog.objects.filter(event="activation_updated").exists()


def test_put__malformed_json__400(world, operator, client_for):
    response = client_for(operator).generic(
        "PUT", URL, b'{"strategy_id": ', content_type="application/json"
    )

    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


def test_put__unknown_world_for_superuser__404(world, client_for, user_factory):
    admin = user_factory(username="root", is_superuser=True)

    response = client_for(admin).put("/worlds/nope/activation", BODY, format="json")

    assert response.status_code == 404


def test_put__audit_row_and_event_per_contract(world, operator, client_for, backend):
    envelope = _put(client_for(operator), HTTP_X_CORRELATION_ID="corr-1").json()

    row = WorldAuditLog.objects.get(event="activation_updated")
    event = WorldEvent.objects.get(type="activation_updated")
    assert row.actor == operator.username and row.correlation_id == "corr-1"
    assert row.result["version"] == 1 and row.result["etag"] == envelope["etag"]
    assert row.result["entry"]["active"] is True and row.result["run_id"] == "7a1b4c"
    assert (row.result["strategy_id"], row.result["side"]) == ("abcd", "long")
    assert set(event.data) >= {
        "world_id", "strategy_id", "side", "active", "weight", "freeze", "drain",
        "effective_mode", "etag", "run_id", "ts", "version", "state_hash",
        "idempotency_key", "seq",
    }  # fmt: skip
    assert event.data["etag"] == envelope["etag"]
    assert event.data["state_hash"] == envelope["state_hash"]
    assert event.correlation_id == "corr-1"


def test_put__snapshot_of_the_new_version(world, operator, client_for, backend):
    envelope = _put(client_for(operator)).json()

    snapshot = ActivationSnapshot.objects.get(world_id="alpha")

    assert snapshot.version == 1 and snapshot.reason == "override"
    assert snapshot.state_hash == envelope["state_hash"]
    assert snapshot.entries[0]["strategy_id"] == "abcd"


def test_get_entry__steady_state__no_database_query(
    world, operator, client_for, django_assert_num_queries
):
    client = client_for(operator)
    _put(client)
    client.get(ENTRY)  # warms the token and role caches

    with django_assert_num_queries(0):
        response = client.get(ENTRY)

    assert response.status_code == 200


ROLES = ("anonymous", "none", "reader", "operator", "owner")
READS = {"anonymous": 401, "none": 404, "reader": 200, "operator": 200, "owner": 200}
WRITES = {"anonymous": 401, "none": 404, "reader": 403, "operator": 200, "owner": 200}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", ENTRY, READS),
        ("get", URL, READS),
        ("get", URL + "?at=2030-01-01T00:00:00Z", READS),
        ("get", URL + "/state_hash", READS),
        ("put", URL, WRITES),
    ],
)
def test_route__role__expected_status(
    world, owner, member, client_for, role, method, path, expected
):
    _put(client_for(owner))
    users = {"anonymous": None, "owner": owner}
    user = users[role] if role in users else member(role)
    client = client_for(user)

    response = client.put(path, BODY, format="json") if method == "put" else client.get(path)

    assert response.status_code == expected[role], response.content
    if response.status_code >= 400:
        assert set(response.json()) >= {"detail", "code"}
