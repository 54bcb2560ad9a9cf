"""The hot lane answers the Gateway's reads past the middleware stack, as the stack would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from rest_framework.test import APIClient

from activation.services.overrides import override_activation
from tests.factories import UserFactory, make_world, token_for
from worlds.roles import Role
from worlds.services.members import grant_role

pytestmark = pytest.mark.django_db

LANE = "worlds.hot_lane.HotReadLane"
COUNTER = "tests.worlds.test_hot_lane.count_stack_walks"
ENTRY = "/worlds/lane/activation?strategy_id=s1&side=long"
stack_walks: list[str] = []


def count_stack_walks(get_response: Callable[[HttpRequest], HttpResponse]) -> Any:
    """A middleware at the bottom of the stack: notes every request that walked all of it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        stack_walks.append(request.path_info)
        return get_response(request)

    return middleware


@pytest.fixture
def token(owner: Any) -> str:
    world = make_world(owner=owner, world_id="lane")
    override_activation(actor=owner, world_id="lane", strategy_id="s1", side="long", active=True)
    gateway = UserFactory(username="lane-gateway")
    grant_role(world=world, user=gateway, role=Role.READER)
    return token_for(gateway)


def client(token: str | None, *, lane: bool) -> APIClient:
    """A client whose requests take the lane (`lane=True`) or walk the whole stack."""
    middleware = [m for m in settings.MIDDLEWARE if lane or m != LANE]
    built = APIClient()
    with override_settings(MIDDLEWARE=[*middleware, COUNTER]):
        built.handler.load_middleware()  # else it is read at the first request
    if token:
        built.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return built


@pytest.fixture(autouse=True)
def fresh_counts() -> Iterator[None]:
    stack_walks.clear()
    yield
    stack_walks.clear()


def answer(response: HttpResponse) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers; the correlation id is per request, so only its presence."""
    headers = {name.lower(): value for name, value in response.items()}
    assert headers.pop("x-correlation-id")
    return response.status_code, response.content, headers


def current_etag(token: str, path: str) -> str:
    return str(client(token, lane=False).get(path)["ETag"])


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/worlds/lane/decide", {}),
    ("GET", "/worlds/lane/decide/", {}),  # the correlation middleware drops the slash first
    ("HEAD", "/worlds/lane/decide", {}),
    ("GET", "/worlds/lane/decide", {"secure": True}),
    ("GET", "/worlds/lane/decide?as_of=yesterday", {}),
    ("GET", "/worlds/nowhere/decide", {}),
    ("GET", ENTRY, {}),
    ("GET", ENTRY, {"secure": True}),
    ("GET", "/worlds/lane/activation?strategy_id=s2&side=long", {}),
    ("GET", "/worlds/lane/activation?strategy_id=s1&side=sideways", {}),
    ("GET", "/worlds/lane/activation?strategy_id=s%31&side=long", {}),
    ("GET", "/worlds/lane/activation", {}),
]


@override_settings(SECURE_HSTS_SECONDS=3600)
@pytest.mark.parametrize(("method", "path", "extra"), REQUESTS)
def test_lane__every_answer__as_the_whole_stack_gives_it(token, method, path, extra):
    whole_stack = client(token, lane=False)
    lane = client(token, lane=True)
    call = "head" if method == "HEAD" else "get"

    expected = answer(getattr(whole_stack, call)(path, **extra))
    learning = answer(getattr(lane, call)(path, **extra))  # walks the stack, to learn
    walks_after_learning = len(stack_walks)
    laned = answer(getattr(lane, call)(path, **extra))

    assert learning == expected
    assert laned == expected
    assert len(stack_walks) == walks_after_learning  # the second answer left from the lane


PROBES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/healthz", {}),
    ("GET", "/health", {}),
    ("GET", "/healthz", {"secure": True}),
    ("HEAD", "/healthz", {}),  # 405: the view's own rule, in the lane as in the stack
]


@override_settings(SECURE_HSTS_SECONDS=3600)
@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize(("method", "path", "extra"), PROBES)
def test_lane__probes_for_anybody__as_the_whole_stack_gives_them(
    owner, signed_in, method, path, extra
):
    whole_stack, lane = client(None, lane=False), client(None, lane=True)
    if signed_in:  # a browser's session changes nothing for a probe
        whole_stack.force_login(owner)
        lane.force_login(owner)
    call = "head" if method == "HEAD" else "get"

    expected = answer(getattr(whole_stack, call)(path, **extra))
    learning = answer(getattr(lane, call)(path, **extra))
    walks_after_learning = len(stack_walks)
    laned = answer(getattr(lane, call)(path, **extra))

    assert learning == expected
    assert laned == expected
    assert len(stack_walks) == walks_after_learning


def test_lane__probe_written_to__the_whole_stack_refuses_it():
    lane = client(None, lane=True)

    response = lane.post("/healthz")

    assert response.status_code == 405
    assert stack_walks == ["/healthz"]


@pytest.mark.parametrize("path", ["/worlds/lane/decide", ENTRY])
def test_lane__not_modified__as_the_whole_stack_gives_it(token, path):
    etag = current_etag(token, path)
    whole_stack = client(token, lane=False)
    lane = client(token, lane=True)

    expected = answer(whole_stack.get(path, HTTP_IF_NONE_MATCH=etag))
    answers = [answer(lane.get(path, HTTP_IF_NONE_MATCH=etag)) for _ in range(3)]

    assert expected[0] == 304
    assert answers == [expected] * 3


def test_lane__steady_state__no_request_walks_the_stack(token):
    lane = client(token, lane=True)
    lane.get("/worlds/lane/decide")  # learns the headers of a 200
    stack_walks.clear()

    statuses = {lane.get("/worlds/lane/decide").status_code for _ in range(20)}

    assert statuses == {200}
    assert stack_walks == []


@pytest.mark.parametrize(
    ("path", "extra", "status", "detail", "walked"),
    [
        # A NUL: refused by the stack's BadInput rule, before the bottom of the stack (decide's
        # own answer to a bad `as_of` would be another 400, with another message).
        ("/worlds/lane/decide?as_of=%00", {}, 400, "The query contains a NUL character.", False),
        # Not in ALLOWED_HOSTS: Django's 400 (the lane would have answered 200).
        ("/worlds/lane/decide", {"HTTP_HOST": "evil.example"}, 400, None, False),
        # A body: the stack reads it (its body limit), and the view answers.
        ("/worlds/lane/decide", {"CONTENT_LENGTH": "5"}, 200, None, True),
    ],
)
def test_lane__out_of_the_ordinary__the_whole_stack_answers(
    token, path, extra, status, detail, walked
):
    lane = client(token, lane=True)
    lane.get("/worlds/lane/decide")  # learned: a lane answer would not walk the stack
    stack_walks.clear()

    response = lane.get(path, **extra)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    if detail is not None:
        assert response.json()["detail"] == detail
    assert stack_walks == (["/worlds/lane/decide"] if walked else [])


def test_lane__plain_http_when_https_is_required__redirected_by_the_stack(token):
    with override_settings(SECURE_SSL_REDIRECT=True):
        lane = client(token, lane=True)
        response = lane.get("/worlds/lane/decide")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/worlds/lane/decide"


def test_lane__session_or_no_credentials__the_whole_stack_answers(token, owner):
    anonymous = client(None, lane=True)
    browser = client(None, lane=True)
    browser.force_login(owner)

    assert anonymous.get("/worlds/lane/decide").status_code == 401
    assert browser.get("/worlds/lane/decide").status_code == 200
    assert stack_walks == ["/worlds/lane/decide", "/worlds/lane/decide"]


def test_lane__writes__the_whole_stack_answers(token):
    lane = client(token, lane=True)

    response = lane.put(
        "/worlds/lane/activation",
        {"strategy_id": "s1", "side": "long", "active": False},
        format="json",
    )

    assert response.status_code == 403  # a reader may not override
    assert stack_walks == ["/worlds/lane/activation"]
