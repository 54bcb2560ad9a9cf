"""JSON answers built without DRF's rendering, for views that must be cheap (the hot reads)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request

from worldservice.api.etags import not_modified, not_modified_response, with_etag

JSON_CONTENT_TYPE = "application/json"


def json_response(body: Any, *, etag: str | None = None, status: int = 200) -> HttpResponse:
    """A JSON answer rendered as DRF's JSONRenderer would (compact, UTF-8), without DRF."""
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")),
        content_type=JSON_CONTENT_TYPE,
        status=status,
    )
    return with_etag(response, etag) if etag is not None else response


def conditional_json(request: HttpRequest | Request, body: Any, etag: str) -> HttpResponse:
    """304 when `If-None-Match` names the current etag, else the body with its ETag."""
    if not_modified(request, etag):
        return not_modified_response(etag)
    return json_response(body, etag=etag)
