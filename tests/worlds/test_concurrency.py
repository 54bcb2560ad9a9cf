"""Optimistic concurrency under real parallel requests (threads, separate DB connections)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection

from tests.factories import UserFactory, make_world, token_for
from worlds.models import World, WorldAuditLog

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_puts_same_if_match__exactly_one_wins():
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="alpha")
    secret = token_for(owner)
    etag = World.objects.get(pk="alpha").etag
    barrier = Barrier(20)

    def put(index: int) -> int:
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        try:
            response = client.put(
                "/worlds/alpha",
                {"name": f"writer {index}"},
                format="json",
                HTTP_IF_MATCH=f'"{etag}"',
            )
            return response.status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(put, range(20)))

    assert statuses == [200] + [412] * 19
    assert World.objects.get(pk="alpha").revision == 2
    assert WorldAuditLog.objects.filter(world_id="alpha", event="world_updated").count() == 1


def test_parallel_creates_same_id__one_201_rest_409():
    creator = UserFactory(username="carol", permissions=["worlds.add_world"])
    secret = token_for(creator)
    barrier = Barrier(8)

    def create(index: int) -> int:
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        barrier.wait()
        try:
            return client.post(
                "/worlds", {"id": "race", "name": f"n{index}"}, format="json"
            ).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(create, range(8)))

    assert statuses == [201] + [409] * 7
    assert WorldAuditLog.objects.filter(world_id="race", event="world_created").count() == 1
