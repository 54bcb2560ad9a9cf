"""One `request_finished` line per request, with who asked and about which world.

django-structlog's middleware writes the lines; this module leaves out the Gateway's hot reads
(`GET …/decide` and `GET …/activation` are answered thousands of times a second, and their
figures belong in `world_decide_latency_ms`, not in a log line each) and the probes, and adds
what the library does not know: the world of the route, the user's name and the client address
as the throttles see it (docs/operations.md#logs).
"""

from __future__ import annotations

from typing import Any

import structlog
from django.dispatch import receiver
from django.http import HttpRequest
from django_structlog import signals
from django_structlog.middlewares import RequestMiddleware

from worldservice.client_address import client_address

HOT_READ_SUFFIXES = ("/decide", "/activation")
# Probes: polled every few seconds, and `/healthz` is the baseline the hot reads are measured
# against, so it must stay as cheap as they are.
PROBE_PATHS = frozenset({"/healthz", "/health", "/readyz", "/metrics"})


def is_hot_read(request: HttpRequest) -> bool:
    """A Gateway hot read or a probe: no request line, and no log work at all."""
    path = request.path_info
    if path in PROBE_PATHS:
        return True
    return (
        request.method == "GET" and path.startswith("/worlds/") and path.endswith(HOT_READ_SUFFIXES)
    )


class RequestLogMiddleware(RequestMiddleware):
    """django-structlog's request lines, except for the hot reads (which pass straight by)."""

    def __call__(self, request: HttpRequest) -> Any:
        if is_hot_read(request):
            return self.get_response(request)
        return super().__call__(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: dict[str, Any]
    ) -> None:
        world_id = kwargs.get("world_id")
        if world_id and not is_hot_read(request):
            structlog.contextvars.bind_contextvars(world_id=world_id)


def _username(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return str(user.get_username())


@receiver(signals.bind_extra_request_metadata)
def _bind_client(request: HttpRequest, **kwargs: Any) -> None:
    structlog.contextvars.bind_contextvars(ip=client_address(request))


@receiver(signals.bind_extra_request_finished_metadata)
def _bind_user(request: HttpRequest, **kwargs: Any) -> None:
    """The user DRF authenticated (token requests have none before the view runs)."""
    username = _username(request)
    if username is not None:
        structlog.contextvars.bind_contextvars(user=username)
