"""The API's JSON answers for errors Django itself handles (`handler400/403/404/500`).

`worldservice/error_pages.py` picks these outside `/admin/`; a dependency outage met outside a DRF
view becomes the same 503 the API sends everywhere (`worldservice/api/outages.py`).
"""

from __future__ import annotations

import sys

from django.http import HttpRequest, JsonResponse

from worldservice.api.errors import error_body
from worldservice.api.outages import outage_of, unavailable


def json_error(request: HttpRequest, detail: str, code: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(detail, code), status=status_code)


def handler404(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(request, "Not found.", "not_found", 404)


def handler500(request: HttpRequest) -> JsonResponse:
    """A bug is a 500; a dependency outage met outside a DRF view is the usual 503."""
    current = sys.exc_info()[1]
    dependency = outage_of(current) if current is not None else None
    if dependency is not None:
        refusal = unavailable(dependency)
        response = json_error(request, refusal.detail, refusal.code, refusal.status_code)
        for name, value in refusal.headers.items():
            response[name] = value
        return response
    return json_error(request, "The server failed to answer this request.", "server_error", 500)


def handler400(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(request, "Bad request.", "bad_request", 400)


def handler403(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(request, "You do not have permission to do this.", "permission_denied", 403)
