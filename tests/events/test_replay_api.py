"""`GET /worlds/{id}/events?after=<seq>`: shape, paging, bad input and the role matrix."""

from __future__ import annotations

import pytest

from tests.events.helpers import cloudevents_of_rows, record_world_updates
from tests.factories import UserFactory, make_world
from worlds.relay import relay_batch

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "none", "reader", "operator", "owner")


@pytest.fixture
def reader(member):
    return member("reader")


def _all_pages(client, url):
    results, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        results.extend(body["results"])
        url = body["next"]
        pages += 1
    return results, pages


def test_events__reader__cloudevents_in_seq_order(world, reader, client_for):
    record_world_updates("alpha", 3)

    response = client_for(reader).get("/worlds/alpha/events")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"results", "next"}
    assert body["next"] is None
    assert body["results"] == cloudevents_of_rows("alpha")
    assert [event["data"]["seq"] for event in body["results"]] == [1, 2, 3, 4]
    first = body["results"][0]
    assert set(first) == {
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "datacontenttype",
        "correlation_id",
        "data",
    }
    assert first["type"] == "world_updated"
    assert first["subject"] == "alpha"
    assert first["id"] == "alpha:1"


def test_events__after__only_later_seqs(world, reader, client_for):
    record_world_updates("alpha", 5)

    response = client_for(reader).get("/worlds/alpha/events?after=3")

    assert [event["data"]["seq"] for event in response.json()["results"]] == [4, 5, 6]


def test_events__after_the_last__empty_page(world, reader, client_for):
    response = client_for(reader).get("/worlds/alpha/events?after=1")

    assert response.json() == {"results": [], "next": None}


@pytest.mark.parametrize("after", ["", "0"])
def test_events__after_empty_or_zero__from_the_first(world, reader, client_for, after):
    response = client_for(reader).get(f"/worlds/alpha/events?after={after}")

    assert [event["id"] for event in response.json()["results"]] == ["alpha:1"]


def test_events__limit__pages_follow_next_without_gaps(world, reader, client_for):
    record_world_updates("alpha", 6)

    results, pages = _all_pages(client_for(reader), "/worlds/alpha/events?limit=2")

    assert pages == 4
    assert [event["data"]["seq"] for event in results] == list(range(1, 8))


def test_events__after_with_limit__next_keeps_the_filter(world, reader, client_for):
    record_world_updates("alpha", 6)

    results, pages = _all_pages(client_for(reader), "/worlds/alpha/events?after=2&limit=2")

    assert pages == 3
    assert [event["data"]["seq"] for event in results] == [3, 4, 5, 6, 7]


def test_events__relayed_or_not__both_replayed(world, reader, client_for, event_stream):
    relay_batch()
    record_world_updates("alpha", 1)

    response = client_for(reader).get("/worlds/alpha/events")

    assert [event["id"] for event in response.json()["results"]] == ["alpha:1", "alpha:2"]


def test_events__other_worlds__not_included(world, owner, reader, client_for):
    make_world(owner=owner, world_id="beta")
    record_world_updates("beta", 2)

    response = client_for(reader).get("/worlds/alpha/events")

    assert {event["subject"] for event in response.json()["results"]} == {"alpha"}


@pytest.mark.parametrize(
    "after", ["-1", "abc", "1.5", "+3", " 2", "1e3", "99999999999999999999", "²"]
)
def test_events__bad_after__400(world, reader, client_for, after):
    response = client_for(reader).get("/worlds/alpha/events", {"after": after})

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert "after" in body["errors"]


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "cursor=%%%"])
def test_events__bad_paging__400(world, reader, client_for, query):
    response = client_for(reader).get(f"/worlds/alpha/events?{query}")

    assert response.status_code == 400, response.content


@pytest.mark.parametrize("role", ROLES)
def test_events__role__expected_status(world, member, client_for, role):
    user = None if role == "anonymous" else member(role)
    expected = {"anonymous": 401, "none": 404, "reader": 200, "operator": 200, "owner": 200}

    response = client_for(user).get("/worlds/alpha/events")

    assert response.status_code == expected[role], response.content
    if response.status_code >= 400:
        assert set(response.json()) >= {"detail", "code"}


def test_events__unknown_world_as_superuser__404(db, client_for):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)

    response = client_for(admin).get("/worlds/nowhere/events")

    assert response.status_code == 404, response.content


def test_events__deleted_world__still_replayed(world, owner, reader, client_for):
    client_for(owner).delete("/worlds/alpha")

    response = client_for(reader).get("/worlds/alpha/events")

    assert response.status_code == 200, response.content
    assert response.json()["results"][-1]["data"]["state"] == "DELETED"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_events__writes__not_allowed(world, owner, client_for, method):
    response = getattr(client_for(owner), method)("/worlds/alpha/events", {}, format="json")

    assert response.status_code == 405, response.content
