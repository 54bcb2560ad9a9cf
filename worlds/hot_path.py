"""The Gateway's steady-state reads, answered without DRF's request machinery.

`GET /worlds/{id}/decide` and the activation entry are read thousands of times a second. When the
caller sends a bearer token this process already knows, holds the role on the world, and the
answer is at hand after the one prefetch round trip (`worlds.hot_reads`), the view's `hot_get`
answers at once with the body and headers the DRF view would send. Anything else (no token or a
bad one, no role, a cold cache, unusual input, an error) falls through to the DRF view, which
does the whole job again and answers the usual way, errors included. The hot path therefore
only ever answers the requests it is sure of; it never decides a refusal.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.exceptions import AuthenticationFailed

from worlds.authentication import bearer_secret
from worlds.hot_reads import AUTH_GENERATION, StoreRead, prefetch, roles_generation_key
from worlds.permissions import WorldScopedView
from worlds.principals import TokenUser
from worlds.roles import Role, world_role
from worlds.services.tokens import cached_token_user

logger = logging.getLogger(__name__)
_reported_faults: set[type[BaseException]] = set()


def hot_caller(
    request: HttpRequest,
    world_id: str,
    needed: Role,
    *,
    extra_keys: Sequence[str] = (),
    store_read: StoreRead | None = None,
) -> dict[str, Any] | None:
    """What the prefetch fetched, when a bearer token holds at least `needed` on the world.

    None means "not sure": the caller must leave the request to the full view.
    """
    try:
        secret = bearer_secret(request)
    except AuthenticationFailed:
        return None
    if secret is None:
        return None
    values = prefetch(request, world_id, extra_keys, store_read)
    # The caches only: a token they do not know (a cold one, or a random one) is the full
    # view's to look up, behind its failed-authentication throttle.
    user = cached_token_user(secret, generation=values.get(AUTH_GENERATION))
    if not isinstance(user, TokenUser):
        return None
    role = world_role(user, world_id, generation=values.get(roles_generation_key(world_id)))
    if role is None or role < needed:
        return None
    return values


class HotReadView(WorldScopedView):
    """A world view whose plain GET may be answered by `hot_get` before DRF is involved."""

    @classmethod
    def hot_get(cls, request: HttpRequest, world_id: str) -> HttpResponseBase | None:
        """The answer to a steady-state GET, or None to leave it to the DRF view.

        Subclasses override it; this default leaves every request to the DRF view.
        """
        return None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        full_view = super().as_view(**initkwargs)
        allow = ", ".join(cls._allowed_method_names())

        # `wraps` carries what Django and drf-spectacular read off a view function
        # (`cls`, `initkwargs`, `view_class`, `csrf_exempt`).
        @functools.wraps(full_view)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method == "GET":
                response = cls._try_hot_get(request, kwargs["world_id"])
                if response is not None:
                    response["Allow"] = allow  # as DRF adds to every answer
                    return response
            return full_view(request, *args, **kwargs)

        return view

    @classmethod
    def _try_hot_get(cls, request: HttpRequest, world_id: str) -> HttpResponseBase | None:
        try:
            return cls.hot_get(request, world_id)
        except Exception as exc:  # noqa: BLE001 - the full view meets the same fault and reports it
            if type(exc) not in _reported_faults:  # once per kind and process: this path is hot
                _reported_faults.add(type(exc))
                logger.warning("hot read fell through to the full view", exc_info=True)
            return None

    @classmethod
    def _allowed_method_names(cls) -> list[str]:
        """The `Allow` header DRF sends: the handlers defined (Django adds HEAD for GET)."""
        return [
            method.upper()
            for method in cls.http_method_names
            if hasattr(cls, method) or (method == "head" and hasattr(cls, "get"))
        ]
