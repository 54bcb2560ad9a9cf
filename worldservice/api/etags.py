"""ETag headers: quoted on the wire, bare inside JSON; If-Match/If-None-Match take either.

The helpers take Django's `HttpRequest` as well as DRF's `Request`, so the hot read path
(`worlds.hot_path`) and the DRF views answer conditional requests the same way
(`worldservice.api.responses`).
"""

from __future__ import annotations

from typing import TypeVar

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from rest_framework.request import Request

from worldservice.api.errors import PreconditionFailed

AnyResponse = TypeVar("AnyResponse", bound=HttpResponseBase)


def quote(etag: str) -> str:
    return f'"{etag}"'


def parse_etags(header: str | None) -> set[str]:
    """The etags named in an `If-Match`/`If-None-Match` header; `*` stays `*`."""
    if not header:
        return set()
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if len(tag) >= 2 and tag[0] == tag[-1] == '"':
            tag = tag[1:-1]
        if tag:
            tags.add(tag)
    return tags


def if_match(request: Request) -> set[str]:
    return parse_etags(request.headers.get("If-Match"))


def require_match(expected: set[str], current: str) -> None:
    """Raise 412 unless `expected` is empty (no precondition), `*`, or names `current`."""
    if expected and "*" not in expected and current not in expected:
        raise PreconditionFailed(
            "The resource changed since you read it (If-Match does not match its ETag).",
            errors={"If-Match": [f"current etag is {current}"]},
        )


def not_modified(request: HttpRequest | Request, current: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH")
    if not header:
        return False
    tags = parse_etags(header)
    return "*" in tags or current in tags


def with_etag(response: AnyResponse, etag: str) -> AnyResponse:
    response["ETag"] = quote(etag)
    return response


def not_modified_response(etag: str) -> HttpResponse:
    response = HttpResponse(status=304)
    del response["Content-Type"]  # no body, so no type (as DRF does for an empty answer)
    return with_etag(response, etag)
