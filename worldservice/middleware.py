"""Plumbing that runs before any view: correlation ids, NUL refusal, body limits, slashes."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import (
    HttpRequest,
    HttpResponse,
    JsonResponse,
)

from worldservice.api.errors import error_body
from worldservice.context import (
    adopt_correlation_id,
    release_correlation_id,
    valid_correlation_id,
)
from worldservice.error_pages import admin_error_page

CORRELATION_HEADER = "X-Correlation-ID"
CORRELATION_META_KEY = "HTTP_X_CORRELATION_ID"
# Routes the browser-facing apps own keep Django's trailing-slash convention.
SLASHED_PREFIXES = ("/admin/", "/docs/", "/redoc/", "/schema/", "/static/", "/api-auth/")


class CorrelationIdMiddleware:
    """Accept or generate `X-Correlation-ID`, make it current for the request, echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META, not `request.headers`: that builds a map of every header, on the hot reads too.
        # Adopt and release, not `with correlation_scope(...)`: the same span, a little cheaper
        # on a path that runs thousands of times a second.
        correlation_id = valid_correlation_id(request.META.get(CORRELATION_META_KEY))
        scope = adopt_correlation_id(correlation_id)
        try:
            # For the lines Django logs after the scope ended ("Internal Server Error: ...").
            request.correlation_id = correlation_id  # type: ignore[attr-defined]
            path = request.path_info
            if path.endswith("/") and len(path) > 1 and not path.startswith(SLASHED_PREFIXES):
                # `/worlds/` and `/worlds` are one resource; the contract spells it without.
                request.path_info = path.rstrip("/")
            response = self.get_response(request)
            response[CORRELATION_HEADER] = correlation_id
            return response
        finally:
            release_correlation_id(scope)


BROWSER_PREFIXES = ("/admin/", "/api-auth/")
NUL = "\x00"


class BadInputMiddleware:
    """Refuse a path or query that holds a NUL character, before any view sees it.

    No id, filter or search term may contain one, and PostgreSQL cannot even compare text with
    it (the query fails with a DataError), so it is refused here for every route at once:
    400 with the usual error body, or the admin's error page in the browser.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info:
            return _bad_request(request, "path", "The path contains a NUL character.")
        if _query_has_nul(request):
            names = sorted(name for name, values in request.GET.lists() if _has_nul(name, values))
            return _bad_request(
                request, names[0] if names else "query", "The query contains a NUL character."
            )
        return self.get_response(request)


def has_nul(request: HttpRequest) -> bool:
    """Whether the path or the query holds a NUL (raw or escaped): what this middleware refuses."""
    return NUL in request.path_info or _query_has_nul(request)


def _query_has_nul(request: HttpRequest) -> bool:
    query = request.META.get("QUERY_STRING", "")
    return "%00" in query or NUL in query


def _has_nul(name: str, values: list[str]) -> bool:
    return NUL in name or any(NUL in value for value in values)


def _bad_request(request: HttpRequest, where: str, detail: str) -> HttpResponse:
    if request.path_info.startswith(BROWSER_PREFIXES):
        # People get the admin's own error page, as for every other refusal there.
        return admin_error_page(request, 400, detail)
    return JsonResponse(
        error_body(detail, "invalid", {where: ["A NUL character is never valid here."]}),
        status=400,
    )


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


TOKEN_SCHEMES = frozenset({"bearer", "token"})
_TOKEN_REQUEST = "_worldservice_token_request"  # noqa: S105 - an attribute name


def carries_bearer_token(request: HttpRequest) -> bool:
    """True for an API request that carries a bearer token (the scheme DRF authenticates).

    Any other `Authorization` header (a proxy's Basic credentials) leaves the browser
    machinery in place, and so does every request to the admin and the browsable API's login.
    """
    known: bool | None = getattr(request, _TOKEN_REQUEST, None)
    if known is None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme = header.split(None, 1)[0].lower() if header.strip() else ""
        known = scheme in TOKEN_SCHEMES and not request.path_info.startswith(BROWSER_PREFIXES)
        setattr(request, _TOKEN_REQUEST, known)
    return known


class SkippedForTokenRequests:
    """Session, user and messages serve browsers (the admin, the browsable API).

    Requests that carry a bearer token (the Gateway's hot reads) pass straight through: DRF
    authenticates them itself and its views are CSRF-exempt.
    """

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if carries_bearer_token(request):
            return self.get_response(request)  # type: ignore[attr-defined, no-any-return]
        return super().__call__(request)  # type: ignore[misc, no-any-return]


class SessionMiddleware(SkippedForTokenRequests, DjangoSessionMiddleware):
    pass


class AuthenticationMiddleware(SkippedForTokenRequests, DjangoAuthenticationMiddleware):
    def __call__(self, request: HttpRequest) -> HttpResponse:
        if carries_bearer_token(request):
            # Code that reads `request.user` before DRF sets it finds "nobody", not an error.
            request.user = AnonymousUser()
        return super().__call__(request)


class MessageMiddleware(SkippedForTokenRequests, DjangoMessageMiddleware):
    pass
