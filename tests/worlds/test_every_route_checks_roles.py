"""Every route, including any added later, refuses callers without a credential or a role.

The route list is derived from the URL configuration itself (`get_resolver().url_patterns`),
and every method each view offers is tried:

- anonymous → 401, on every route outside the public allow-list;
- an authenticated user with no role on the world → 404, on every route under
  `/worlds/{world_id}/...` (the world exists: its existence must not leak).

A new route passes only when its view checks both, or when it is added to the allow-list below
(and to docs/api.md, "Routes without a role check").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.factories import UserFactory, make_world, token_for

pytestmark = pytest.mark.django_db

# Routes anyone may call (no credential): health, readiness, metrics, the API documents, the
# landing page and its favicon, and the browser-facing apps that run their own login (the admin,
# the browsable API's login).
PUBLIC_ROUTES = frozenset(
    {"", "favicon.ico", "healthz", "health", "readyz", "metrics", "schema/", "docs/", "redoc/"}
)
PUBLIC_PREFIXES = ("admin/", "api-auth/", "static/")

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
SAMPLE_VALUES = {"world_id": "alpha", "username": "bystander", "version": "1", "run_id": "r1"}
METHODS = ("get", "post", "put", "patch", "delete", "options")


@dataclass(frozen=True)
class Route:
    template: str  # as written in the URL configuration, e.g. worlds/<str:world_id>/describe
    view: Callable[..., Any]

    @property
    def path(self) -> str:
        return "/" + PARAMETER.sub(lambda m: SAMPLE_VALUES.get(m.group(1), "x"), self.template)

    @property
    def world_scoped(self) -> bool:
        return "world_id" in PARAMETER.findall(self.template)

    @property
    def public(self) -> bool:
        return self.template in PUBLIC_ROUTES or self.template.startswith(PUBLIC_PREFIXES)

    def methods(self) -> list[str]:
        view_class = getattr(self.view, "view_class", None) or getattr(self.view, "cls", None)
        if view_class is None:  # a plain function view: it must be on the allow-list
            return ["get"]
        return [method for method in METHODS if hasattr(view_class, method)]


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield Route(prefix + str(entry.pattern), entry.callback)


ROUTES = sorted(_walk(get_resolver().url_patterns), key=lambda route: route.template)
GUARDED = [route for route in ROUTES if not route.public]
WORLD_SCOPED = [route for route in GUARDED if route.world_scoped]
CASES_ANONYMOUS = [(route, method) for route in GUARDED for method in route.methods()]
CASES_NO_ROLE = [(route, method) for route in WORLD_SCOPED for method in route.methods()]


def _ids(case: tuple[Route, str]) -> str:
    return f"{case[1].upper()} /{case[0].template}"


@pytest.fixture
def world_without_the_caller() -> None:
    owner = UserFactory(username="olivia", permissions=["worlds.add_world"])
    make_world(owner=owner, world_id="alpha")
    UserFactory(username="bystander")


def test_route_list__derived_from_the_url_configuration__covers_the_known_routes():
    templates = {route.template for route in ROUTES}

    assert "worlds/<str:world_id>/decide" in templates
    assert "worlds/<str:world_id>/apply/<str:run_id>" in templates
    assert len(WORLD_SCOPED) >= 20
    # every allow-listed name is a real route, so the allow-list cannot hide a typo
    assert PUBLIC_ROUTES - {"health"} <= templates


@pytest.mark.parametrize(("route", "method"), CASES_ANONYMOUS, ids=map(_ids, CASES_ANONYMOUS))
def test_route__anonymous__401(world_without_the_caller, route, method):
    response = getattr(APIClient(), method)(route.path, {}, format="json")

    assert response.status_code == 401, (route.path, response.content[:300])
    assert {"detail", "code"} <= set(response.json())


@pytest.mark.parametrize(("route", "method"), CASES_NO_ROLE, ids=map(_ids, CASES_NO_ROLE))
def test_world_route__no_role_on_the_world__404(world_without_the_caller, route, method):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(UserFactory())}")

    response = getattr(client, method)(route.path, {}, format="json")

    assert response.status_code == 404, (route.path, response.content[:300])
    assert response.json()["code"] == "not_found"
