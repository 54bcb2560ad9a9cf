"""The console's pages read a fixed number of queries, however many versions a world has
(timings with 1,000 versions are in bench/review_pages.py)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.admin.conftest import YAML

pytestmark = pytest.mark.django_db

PAGES = [
    ("admin:index", ()),
    ("admin:awaiting_review", ()),
    ("admin:policies_worldpolicy_changelist", ()),
    ("admin:policies_worldpolicy_review", ("desk", 2)),
    ("admin:policies_worldpolicy_compare", ("desk", 2)),
    ("admin:policies_worldpolicy_simulation", ("desk", 2)),
    ("admin:policies_worldpolicy_set_default", ("desk", 2)),
    ("admin:worlds_world_change", ("desk",)),
]


def _queries(desk, name, args) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = (
            desk.olga.get(name, *args) if "set_default" in name else desk.rex.get(name, *args)
        )
    assert response.status_code == 200, name
    return len(queries)


def _add_versions(desk, count: int) -> None:
    for _ in range(count):
        policy = desk.upload(YAML, by=desk.olga)
        desk.approve(policy)


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_page__queries__do_not_grow_with_versions(desk, name, args):
    from worlds.roles import Role
    from worlds.services.members import grant_role

    grant_role(world=desk.world, user=desk.rex.user, role=Role.READER)  # opens the world page
    _add_versions(desk, 3)
    _queries(desk, name, args)  # warms the role and token caches, as any earlier page would
    few = _queries(desk, name, args)

    _add_versions(desk, 25)
    many = _queries(desk, name, args)

    assert many <= few, f"{name}: {few} queries with 3 versions, {many} with 28"
