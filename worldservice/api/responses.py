"""JSON answers built without DRF's rendering, for views that must be cheap (the hot reads)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.request import Request

from worldservice.api.etags import not_modified, not_modified_response, with_etag
from worldservice.held import DerivedOnce

JSON_CONTENT_TYPE = "application/json"


def encode_json(body: Any) -> str:
    """The body as DRF's JSONRenderer writes it (compact, UTF-8, no NaN)."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


# The JSON of bodies that are never changed once made (decide's held envelope, an activation
# entry's): encoded once per body (`worldservice.held`), as UTF-8 bytes, which the answer takes
# as they are (a `str` would be encoded again for every answer).
HELD_BODIES: DerivedOnce[bytes] = DerivedOnce()


def json_response(
    body: Any, *, etag: str | None = None, status: int = 200, held: bool = False
) -> HttpResponse:
    """A JSON answer rendered as DRF's JSONRenderer would, without DRF.

    `held=True` promises that `body` is never changed (see `worldservice.held`).
    """
    response = HttpResponse(
        HELD_BODIES.get(body, lambda: encode_json(body).encode()) if held else encode_json(body),
        content_type=JSON_CONTENT_TYPE,
        status=status,
    )
    return with_etag(response, etag) if etag is not None else response


def conditional_json(
    request: HttpRequest | Request, body: Any, etag: str, *, held: bool = False
) -> HttpResponse:
    """304 when `If-None-Match` names the current etag, else the body with its ETag."""
    if not_modified(request, etag):
        return not_modified_response(etag)
    return json_response(body, etag=etag, held=held)
