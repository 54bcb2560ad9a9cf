"""Error answers: admin-styled HTML pages under `/admin/`, the API's JSON everywhere else.

Django calls the `handler400/403/404/500` named in `config/urls.py`; each picks the page or
the JSON body (`worldservice.api.error_handlers`) by the request's path. A `ServiceError` a
service raises inside an admin page becomes the same page with the service's own sentence and status
(`AdminServiceErrorMiddleware`), never a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import escape

from worldservice.api import error_handlers as api_errors
from worldservice.api.errors import ServiceError

logger = logging.getLogger(__name__)

ADMIN_PREFIX = "/admin/"
TEMPLATE = "admin/error_page.html"
TITLES = {
    400: "Bad request",
    403: "Permission denied",
    404: "Page not found",
    409: "Not possible right now",
    412: "Changed meanwhile",
    500: "Server error",
    503: "Temporarily unavailable",
}
DEFAULT_MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to see or do this.",
    404: "There is nothing at this address.",
    500: "The server failed to answer this request. It has been logged.",
}


def is_admin_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(ADMIN_PREFIX)


def _message(exception: Exception | None, status: int) -> str:
    """The exception's own sentence when it was written for people, else a default one."""
    if isinstance(exception, ServiceError):
        return exception.detail
    text = str(exception) if exception is not None and exception.args else ""
    # Http404 raised by Django's resolver carries a dict describing the URL patterns.
    if status == 404 and (not text or text.startswith("{")):
        return DEFAULT_MESSAGES[404]
    return text or DEFAULT_MESSAGES.get(status, TITLES.get(status, "Error"))


def admin_error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """An admin-styled page saying what went wrong, with the admin's header and navigation."""
    title = TITLES.get(status, "Error")
    try:
        context: dict[str, Any] = {
            **admin.site.each_context(request),
            "title": title,
            "status": status,
            "message": message,
        }
        body: str = render_to_string(TEMPLATE, context, request=request)
    except Exception:
        # The page itself failed (the database may be what is down): a bare page still says it.
        logger.exception("could not render the admin error page")
        body = f"<!DOCTYPE html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
        body += f"<p>{escape(message)}</p><p><a href='{ADMIN_PREFIX}'>Admin home</a></p>"
    return HttpResponse(body, status=status)


def _handler(status: int, api_handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def handler(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
        if is_admin_request(request):
            return admin_error_page(request, status, _message(exception, status))
        if status == 500:
            return api_handler(request)
        return api_handler(request, exception)

    handler.__name__ = f"handler{status}"
    return handler


handler400 = _handler(400, api_errors.handler400)
handler403 = _handler(403, api_errors.handler403)
handler404 = _handler(404, api_errors.handler404)
handler500 = _handler(500, api_errors.handler500)


class AdminServiceErrorMiddleware:
    """A refusal from a service inside an admin page (a world that is not there, a role that is
    too low) becomes an admin page with its status and sentence instead of a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, ServiceError) and is_admin_request(request):
            return admin_error_page(request, exception.status_code, exception.detail)
        return None
