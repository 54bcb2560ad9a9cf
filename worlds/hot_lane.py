"""The hot lane: the Gateway's reads answered past the middleware stack, with the same headers.

A bearer-token GET or HEAD of a hot route (decide, the activation entry and set) needs none of
the stack's browser machinery (sessions, CSRF, messages, the login lockout, static files), yet
walking it cost as much CPU as the answer itself. `HotReadLane` sits right after the correlation
id's middleware and answers such a request with `worlds.hot_path.read_response`, the very code
the route runs, so authentication, roles, ETags, 304 and the decide metric are unchanged. The
probes (`/healthz`, `/health`: no credentials, no side effect) take the lane too, for anybody.

What the stack adds to an answer on its way out (the security headers: CSP, Permissions-Policy,
X-Frame-Options, nosniff, Referrer-Policy, COOP, HSTS on HTTPS) is not written down again here:
the first answer of each kind (its route, HTTPS or not, and its status) goes through the whole
stack, with the lane's answer handed to the view, and the lane keeps what the stack added.
Later answers of that kind get those headers, and `Content-Length` (the one header derived
from the body).

Anything out of the ordinary takes the whole stack, which has the rule for it: another method
or scheme, a NUL in the path or query, a request body, a host not allowed, a plain-HTTP request
that must be redirected. See docs/architecture.md and docs/performance.md, "The hot lane".
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, get_resolver

from worlds.hot_path import (
    ANSWERED_ATTRIBUTE,
    READ_METHODS,
    HotReadView,
    read_response,
    take_lane_answer,
)
from worldservice.middleware import carries_bearer_token, has_nul

LANE_ANSWER_ATTRIBUTE = "lane_answer"
HeaderKind = tuple[str, bool, int]  # (route, HTTPS, status)
LearnedHeaders = tuple[tuple[str, str, str], ...]  # (lower-case name, name, value)

# Per process: what the stack adds to an answer of each kind (see the module's docstring).
_added_by_stack: dict[HeaderKind, LearnedHeaders] = {}
# Per process: `Host` headers Django accepted (a few names; the check is a regex walk).
_accepted_hosts: set[str] = set()


class HotReadLane:
    """Answer the hot reads of bearer-token callers without walking the rest of the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        found = lane_route(request)
        if found is None:
            return self.get_response(request)
        route, kwargs = found
        response = route.answer(request, **kwargs)
        kind = (route.route, request.is_secure(), response.status_code)
        added = _added_by_stack.get(kind)
        if added is None:
            return self._learn(request, response, kind)
        _add_headers(response, added)
        response["Content-Length"] = str(len(response.content))
        return response

    def _learn(self, request: HttpRequest, response: HttpResponse, kind: HeaderKind) -> Any:
        """Send the answer out through the whole stack and keep what it added."""
        before = {name.lower(): value for name, value in response.items()}
        setattr(request, ANSWERED_ATTRIBUTE, response)
        final = self.get_response(request)
        if final is response:  # else the stack answered otherwise: nothing to learn
            _added_by_stack[kind] = tuple(
                (name.lower(), name, value)
                for name, value in final.items()
                if name.lower() != "content-length" and before.get(name.lower()) != value
            )
        return final


def _add_headers(response: HttpResponse, headers: LearnedHeaders) -> None:
    """Put headers the stack already set once on a response, as they were set.

    Setting a header through `response[name]` checks and encodes the name and the value again
    (a microsecond each, ten times per answer); these passed those checks when the stack set
    them, so they go straight into Django's header store (`ResponseHeaders._store`: lower-case
    name to (name, value)). The lane's tests compare every header with the whole stack's.
    """
    store = response.headers._store  # noqa: SLF001 - see the docstring
    for lower, name, value in headers:
        store[lower] = (name, value)


def lane_route(request: HttpRequest) -> tuple[LaneRoute, dict[str, Any]] | None:
    """The lane's route for this request and its arguments, when the lane may answer it."""
    if request.method not in READ_METHODS:
        return None
    path = request.path_info
    for route in lane_routes(settings.ROOT_URLCONF):
        match = route.pattern.match(path[1:])
        if match is not None:
            if route.needs_token and not carries_bearer_token(request):
                return None
            return (route, match[2]) if _ordinary(request) else None
    return None


def _ordinary(request: HttpRequest) -> bool:
    """Nothing the stack's request rules would refuse, redirect or need to read."""
    meta = request.META
    if has_nul(request):
        return False
    if meta.get("CONTENT_LENGTH") not in (None, "", "0") or "HTTP_TRANSFER_ENCODING" in meta:
        return False
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return False
    return _allowed_host(request)


def _allowed_host(request: HttpRequest) -> bool:
    """Django's host check (`ALLOWED_HOSTS`), remembered per `Host` header it accepted."""
    raw = request.META.get("HTTP_HOST")
    if raw is not None and raw in _accepted_hosts:
        return True
    try:
        request.get_host()
    except DisallowedHost:
        return False
    if raw is not None and not settings.USE_X_FORWARDED_HOST and len(_accepted_hosts) < 64:
        _accepted_hosts.add(raw)
    return True


@dataclass(frozen=True, slots=True)
class LaneRoute:
    """A route the lane answers: its URL pattern, the answer, and whether a token is needed."""

    route: str  # as written in config/urls.py; what the stack adds is learned per route
    pattern: Any  # its RoutePattern
    answer: Callable[..., HttpResponse]  # called as the view is: (request, **the route's kwargs)
    needs_token: bool


@functools.cache
def lane_routes(urlconf: str) -> Sequence[LaneRoute]:
    """The lane's routes: those at the head of the URLconf, in order.

    Only the leading run counts: a request the lane takes must be one Django would route to the
    same view, and nothing comes before these routes in `config/urls.py`. A hot read
    (`HotReadView`) needs a bearer token; a view marked `open_to_the_lane` (the probes) does not.
    """
    routes: list[LaneRoute] = []
    for entry in get_resolver(urlconf).url_patterns:
        route = _lane_route_of(entry)
        if route is None:
            break
        routes.append(route)
    return tuple(routes)


def _lane_route_of(entry: Any) -> LaneRoute | None:
    if not isinstance(entry, URLPattern):
        return None
    view_class = getattr(entry.callback, "view_class", None)
    if isinstance(view_class, type) and issubclass(view_class, HotReadView):
        answer = functools.partial(read_response, view_class)
        return LaneRoute(str(entry.pattern), entry.pattern, answer, needs_token=True)
    lane_answer = getattr(entry.callback, LANE_ANSWER_ATTRIBUTE, None)
    if lane_answer is not None:
        return LaneRoute(str(entry.pattern), entry.pattern, lane_answer, needs_token=False)
    return None


def open_to_the_lane(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let the lane answer this view's GET and HEAD for anybody (a probe such as `/healthz`).

    Only for views that read no credentials and change nothing: the lane calls `view` itself,
    and the stack's request rules (sessions, CSRF, authentication) never run for it. The route
    must sit with the hot reads at the head of `config/urls.py`.
    """

    @functools.wraps(view)
    def routed(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        answered = take_lane_answer(request)
        if answered is not None:
            return answered
        return view(request, *args, **kwargs)

    setattr(routed, LANE_ANSWER_ATTRIBUTE, view)
    return routed


@receiver(setting_changed)
def _forget_learned(**kwargs: Any) -> None:
    """Tests change settings (the stack, HSTS, the URLconf): learn again under the new ones."""
    _added_by_stack.clear()
    _accepted_hosts.clear()
    lane_routes.cache_clear()
