"""Input that used to answer 500 now answers 400 (or 404) with the usual error body.

Each case here was a 500 before: NUL characters in paths and queries (psycopg `DataError`), times
whose UTC conversion leaves Python's range (`OverflowError`), JSON integers of thousands of
digits (`ValueError`), any non-bearer `Authorization` header on the admin (`AttributeError`).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import DataError
from django.test import Client
from rest_framework.test import APIClient

from policies.models import HistoryEntry, StrategyBinding, WorldPolicy
from tests.factories import UserFactory, make_world, token_for
from worlds.models import World, WorldAuditLog
from worldservice.api.exception_handler import exception_handler
from worldservice.limits import MAX_JSON_INTEGER

pytestmark = pytest.mark.django_db

HUGE = "9" * 5000  # Python refuses to read more than 4,300 digits at all


@pytest.fixture
def superuser():
    user = UserFactory(username="root", is_superuser=True, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_worldauditlog"))
    make_world(owner=user, world_id="alpha")
    return user


@pytest.fixture
def api(superuser) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(superuser)}")
    return client


def _stored() -> tuple[int, int, int, int, int]:
    return (
        World.objects.count(),
        WorldAuditLog.objects.count(),
        StrategyBinding.objects.count(),
        HistoryEntry.objects.count(),
        WorldPolicy.objects.count(),
    )


def _assert_400(response, *, field: str | None = None, code: str = "invalid") -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert {"detail", "code"} <= set(body)
    assert body["code"] == code
    if field is not None:
        assert field in body["errors"], body


# --- NUL characters in paths and queries ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/worlds/a%00b", "path"),
        ("/worlds/alpha/members/a%00b", "path"),
        ("/worlds/alpha/evaluations/a%00", "path"),
        ("/worlds/alpha/apply/a%00", "path"),
        ("/worlds?label=a%00", "label"),
        ("/audit?actor=a%00b", "actor"),
        ("/audit?world_id=a%00", "world_id"),
        ("/audit/verify?world_id=a%00", "world_id"),
        ("/worlds/alpha/audit?actor=a%00b", "actor"),
        ("/worlds/alpha/audit?event=a%00", "event"),
        ("/allocations?world_id=a%00", "world_id"),
        ("/worlds/alpha/activation?strategy_id=a%00&side=long", "strategy_id"),
        ("/worlds?x%00y=1", "x\x00y"),
    ],
)
def test_nul_in_path_or_query__400_naming_it(api, path, field):
    _assert_400(api.get(path), field=field)


def test_nul_in_query_of_a_write__400_and_nothing_stored(api):
    before = _stored()

    response = api.post("/worlds/alpha/bindings?x=%00", {"strategies": ["s1"]}, format="json")

    _assert_400(response, field="x")
    assert _stored() == before


def test_nul_in_admin_query__400_admin_error_page_not_json(superuser):
    client = Client()
    client.force_login(superuser)

    response = client.get("/admin/auth/user/?q=a%00b")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad request" in response.content
    assert b"NUL" in response.content


def test_cursor_holding_nul__400_invalid_cursor(api):
    import base64
    import json

    cursor = base64.urlsafe_b64encode(json.dumps("a\x00").encode()).decode().rstrip("=")

    _assert_400(api.get(f"/worlds?cursor={cursor}"), code="invalid_cursor")


# --- times out of range -------------------------------------------------------------------

OUT_OF_RANGE = [
    "0001-01-01T00:00:00+01:00",  # valid text; its UTC time is before year 1
    "9999-12-31T23:59:59-01:00",  # valid text; its UTC time is after year 9999
    "0001-01-01T00:00:00Z",
    "1899-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
]


@pytest.mark.parametrize("moment", OUT_OF_RANGE)
@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/worlds/alpha/decide?as_of=", "as_of"),
        ("/worlds/alpha/activation?at=", "at"),
        ("/worlds/alpha/audit?since=", "since"),
        ("/worlds/alpha/audit?until=", "until"),
        ("/audit?since=", "since"),
    ],
)
def test_time_out_of_range_in_query__400_naming_it(api, path, name, moment):
    from urllib.parse import quote

    _assert_400(api.get(path + quote(moment)), field=name)


@pytest.mark.parametrize("moment", OUT_OF_RANGE[:2])
def test_time_out_of_range_in_body__400_and_nothing_stored(api, moment):
    before = _stored()

    history = api.post(
        "/worlds/alpha/history",
        {"strategy_id": "s1", "node_id": "n", "interval": 60, "as_of": moment},
        format="json",
    )
    upload = api.post(
        "/worlds/alpha/policies", {"preset": "sandbox", "valid_from": moment}, format="json"
    )
    evaluate = api.post("/worlds/alpha/evaluate", {"as_of": moment}, format="json")

    _assert_400(history, field="as_of")
    _assert_400(upload, field="valid_from")
    _assert_400(evaluate, field="as_of")
    assert _stored() == before


def test_time_at_the_edges_of_the_range__accepted(api):
    assert api.get("/worlds/alpha/decide?as_of=1900-01-01T00:00:00Z").status_code == 200
    assert api.get("/worlds/alpha/decide?as_of=2999-12-31T23:59:59Z").status_code == 200


# --- oversized numbers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/worlds", '{"id": "w9", "name": "x", "approvals_required": %s}'),
        ("patch", "/worlds/alpha", '{"approvals_required": %s}'),
        ("post", "/worlds/alpha/bindings", '{"strategies": [%s]}'),
        ("post", "/worlds/alpha/history", '{"strategy_id": "s", "node_id": "n", "interval": %s}'),
        ("post", "/worlds/alpha/set-default", '{"version": %s}'),
        ("post", "/worlds/alpha/evaluate", '{"metrics": {"s1": {"sharpe": %s}}}'),
        ("put", "/worlds/alpha/activation", '{"strategy_id": "s", "side": "long", "active": %s}'),
        ("post", "/rebalancing/plan", '{"total_equity": %s}'),
        ("post", "/allocations", '{"run_id": "r", "total_equity": %s}'),
    ],
)
@pytest.mark.parametrize("number", [HUGE, "-" + HUGE, str(MAX_JSON_INTEGER + 1)])
def test_json_integer_too_large__400_number_too_large_and_nothing_stored(
    api, method, path, body, number
):
    before = _stored()

    response = getattr(api, method)(path, body % number, content_type="application/json")

    _assert_400(response, code="number_too_large")
    assert _stored() == before


def test_json_integer_at_the_bound__accepted(api):
    response = api.post(
        "/worlds/alpha/history",
        {"strategy_id": "s1", "node_id": "n", "interval": 60, "rows": MAX_JSON_INTEGER},
        format="json",
    )

    assert response.status_code == 204
    assert HistoryEntry.objects.get(strategy_id="s1").rows == MAX_JSON_INTEGER


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/worlds/alpha/policies/{HUGE}", 404),
        ("/worlds/alpha/policies/99999999999", 404),
        (f"/worlds/alpha/policies/1/diff?against={HUGE}", 404),
        (f"/worlds/alpha/events?after={HUGE}", 400),
        (f"/worlds?limit={HUGE}", 400),
    ],
)
def test_oversized_number_in_path_or_query__clean_4xx(api, path, expected):
    response = api.get(path)

    assert response.status_code == expected, response.content[:300]
    assert {"detail", "code"} <= set(response.json())


def test_set_default_with_oversized_v__400_and_nothing_changed(api):
    before = _stored()

    response = api.post(f"/worlds/alpha/set-default?v={HUGE}", {}, format="json")

    _assert_400(response, field="version")
    assert _stored() == before


# --- JSON types that used to be coerced -----------------------------------------------------


def test_create_world__numeric_id__400_and_nothing_stored(api):
    before = _stored()

    response = api.post("/worlds", {"id": 0, "name": "x"}, format="json")

    _assert_400(response, field="id")
    assert _stored() == before


@pytest.mark.parametrize("strategy", [0, 7.5, True])
def test_bindings__non_string_strategy__400_and_nothing_stored(api, strategy):
    before = _stored()

    response = api.post("/worlds/alpha/bindings", {"strategies": [strategy]}, format="json")

    _assert_400(response, field="strategies[0]")
    assert _stored() == before


def test_apply__numeric_run_id__400(api):
    response = api.post("/worlds/alpha/apply", {"run_id": 1, "plan": {}}, format="json")

    _assert_400(response, field="run_id")


@pytest.mark.parametrize("query", ["limit=", "limit=%20", "limit=1e3", "limit=-"])
def test_pagination__empty_or_malformed_limit__400(api, query):
    _assert_400(api.get(f"/worlds?{query}"), field="limit")


# --- the admin and Authorization headers ----------------------------------------------------


@pytest.mark.parametrize(
    "header", ["Basic YWxpY2U6c2VjcmV0", "Digest username=x", "Bearer not-a-token", "garbage"]
)
def test_admin__any_authorization_header__signed_in_page_still_works(superuser, header):
    client = Client(HTTP_AUTHORIZATION=header)
    client.force_login(superuser)

    response = client.get("/admin/")

    assert response.status_code == 200
    assert b"Log out" in response.content  # the signed-in admin page


@pytest.mark.parametrize("header", ["Basic YWxpY2U6c2VjcmV0", "Bearer not-a-token"])
def test_admin__authorization_header_without_session__login_redirect(header):
    response = Client(HTTP_AUTHORIZATION=header).get("/admin/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_api__basic_authorization_header__401_json(superuser):
    response = Client(HTTP_AUTHORIZATION="Basic YWxpY2U6c2VjcmV0").get("/worlds/alpha")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- the database's own refusal, as a last resort ---------------------------------------------


def test_exception_handler__database_refuses_a_value__400_not_500():
    response = exception_handler(DataError("invalid byte sequence"), {})

    assert response is not None and response.status_code == 400
    assert response.data["code"] == "invalid"
