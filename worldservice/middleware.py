"""Request plumbing that must run before any view: correlation ids, body limits, trailing slash."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse

from worldservice.api.errors import error_body
from worldservice.context import correlation_scope

CORRELATION_HEADER = "X-Correlation-ID"
# Routes the browser-facing apps own keep Django's trailing-slash convention.
SLASHED_PREFIXES = ("/admin/", "/docs/", "/redoc/", "/schema/", "/static/", "/api-auth/")


class CorrelationIdMiddleware:
    """Accept or generate `X-Correlation-ID`, make it current for the request, echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with correlation_scope(request.headers.get(CORRELATION_HEADER)) as correlation_id:
            if (
                request.path_info.endswith("/")
                and len(request.path_info) > 1
                and not request.path_info.startswith(SLASHED_PREFIXES)
            ):
                # `/worlds/` and `/worlds` are one resource; the contract spells it without.
                request.path_info = request.path_info.rstrip("/")
            response = self.get_response(request)
            response[CORRELATION_HEADER] = correlation_id
            return response


class RequestBodyLimitMiddleware:
    """Refuse a declared body over the limit with 413 before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(settings.WORLDSERVICE["MAX_BODY_BYTES"])
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw_length)
        except ValueError:
            return JsonResponse(
                error_body("Content-Length is not a number.", "bad_request"), status=400
            )
        if length > limit:
            return JsonResponse(
                error_body(f"The request body is larger than {limit} bytes.", "request_too_large"),
                status=413,
            )
        return self.get_response(request)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteFailureMetricsMiddleware:
    """Count writes the service failed to carry out (`registry_write_fail_total`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from worldservice.metrics import registry_write_fail_total

        try:
            response = self.get_response(request)
        except Exception:
            if request.method in WRITE_METHODS:
                registry_write_fail_total.inc()
            raise
        if response.status_code >= 500 and request.method in WRITE_METHODS:
            registry_write_fail_total.inc()
        return response


def _bearer(request: HttpRequest) -> bool:
    return "HTTP_AUTHORIZATION" in request.META


class SkippedForTokenRequests:
    """Session, user and messages serve browsers (the admin, the browsable API).

    Requests that carry an `Authorization` header (the Gateway's hot reads) pass straight
    through: DRF authenticates them itself and its views are CSRF-exempt.
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _bearer(request):
            return self.get_response(request)  # type: ignore[attr-defined, no-any-return]
        return super().__call__(request)  # type: ignore[misc, no-any-return]


class SessionMiddleware(SkippedForTokenRequests, DjangoSessionMiddleware):
    pass


class AuthenticationMiddleware(SkippedForTokenRequests, DjangoAuthenticationMiddleware):
    pass


class MessageMiddleware(SkippedForTokenRequests, DjangoMessageMiddleware):
    pass
