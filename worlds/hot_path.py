"""The Gateway's hot reads: one code path per endpoint, answered without DRF's request cycle.

`GET /worlds/{id}/decide` and the activation entry are read thousands of times a second. Their
route sends every GET and HEAD to `serve_read` (other methods go to the DRF view), which does for
every such endpoint, in this order and in this one place:

1. **authentication**: a bearer token (from this process's copies, else the database behind the
   failed-authentication throttle, `worlds.authentication.bearer_user`), or the browser's
   session;
2. **the role check**: no role is 404, too low a role is 403 (`worlds.roles.require_role`);
3. **the answer**: the endpoint's `answer`, which builds the body, the ETag and the 304;
4. **errors**: any refusal leaves in the project's error shape, through the same exception
   handler as every DRF view (`worldservice.api.exception_handler.error_response`);
5. the `Allow` header DRF would send.

The values the request needs from the shared cache (the generations, decide's envelope, the
activation entry) are fetched once by `worlds.hot_reads.prefetch`: from this process's tracked
copies in the steady state, else in one round trip. See docs/performance.md.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from rest_framework import exceptions

from worlds.authentication import bearer_secret, bearer_user
from worlds.hot_reads import StoreRead, prefetch, roles_generation_key
from worlds.permissions import WorldScopedView
from worlds.principals import TokenUser
from worlds.roles import require_role
from worldservice.api.exception_handler import error_response

READ_METHODS = ("GET", "HEAD")
ANSWERED_ATTRIBUTE = "_worldservice_hot_read_answer"


class HotReadView(WorldScopedView, abc.ABC):
    """A world route whose reads are answered by `answer` through `serve_read`.

    Subclasses define `answer`, and `prefetch_plan` when the answer needs cache keys or a
    store read beyond the generations. Writes and OPTIONS stay with the DRF view.
    """

    @classmethod
    def prefetch_plan(
        cls, request: HttpRequest, world_id: str
    ) -> tuple[Sequence[str], StoreRead | None]:
        """The cache keys and the store read to fetch with the generations."""
        return (), None

    @classmethod
    @abc.abstractmethod
    def answer(cls, request: Any, world_id: str, values: dict[str, Any]) -> HttpResponse:
        """The answer to an authorised read; `values` is what the prefetch fetched."""

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        drf_view = super().as_view(**initkwargs)

        # `wraps` carries what Django and drf-spectacular read off a view function
        # (`cls`, `initkwargs`, `view_class`, `csrf_exempt`).
        @functools.wraps(drf_view)
        def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in READ_METHODS:
                return drf_view(request, *args, **kwargs)
            answered = take_lane_answer(request)
            if answered is not None:
                return answered
            return read_response(cls, request, kwargs["world_id"])

        return view

    @classmethod
    @functools.cache
    def allow_header(cls) -> str:
        """The `Allow` header DRF sends: the handlers defined (Django adds HEAD for GET)."""
        return ", ".join(
            method.upper()
            for method in cls.http_method_names
            if hasattr(cls, method) or (method == "head" and hasattr(cls, "get"))
        )


def take_lane_answer(request: HttpRequest) -> HttpResponse | None:
    """The hot lane's answer to this request, when the lane sent it through the stack to learn
    what the stack adds (worlds/hot_lane.py): already made, so the view must not make another."""
    answered: HttpResponse | None = request.__dict__.pop(ANSWERED_ATTRIBUTE, None)
    return answered


def read_response(endpoint: type[HotReadView], request: HttpRequest, world_id: str) -> HttpResponse:
    """The answer to a read of `endpoint`, with the `Allow` header DRF adds to every answer."""
    response = serve_read(endpoint, request, world_id)
    response["Allow"] = endpoint.allow_header()
    return response


def serve_read(endpoint: type[HotReadView], request: HttpRequest, world_id: str) -> HttpResponse:
    """Authenticate, check the role, answer; any refusal in the project's error shape."""
    try:
        keys, store_read = endpoint.prefetch_plan(request, world_id)
        values = prefetch(request, world_id, keys, store_read)
        user = read_caller(request, values)
        generation = values.get(roles_generation_key(world_id))
        require_role(user, world_id, endpoint.read_role, generation=generation)
        return endpoint.answer(request, world_id, values)
    except Exception as exc:  # noqa: BLE001 - rendered as DRF would, or raised again
        response = error_response(exc)
        if response is None:
            raise
        return response


def read_caller(request: HttpRequest, values: dict[str, Any]) -> Any:
    """The authenticated caller: a bearer token's user, else the browser session's user."""
    secret = bearer_secret(request)
    if secret is not None:
        user: TokenUser = bearer_user(request, secret, values)
        return user
    session_user = getattr(request, "user", None)  # the session middleware's lazy user
    if session_user is None or not session_user.is_authenticated or not session_user.is_active:
        raise exceptions.NotAuthenticated()
    return session_user
