"""ETag headers: quoted on the wire, bare inside JSON; If-Match/If-None-Match take either."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from worldservice.api.errors import PreconditionFailed


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


def not_modified(request: Request, current: str) -> bool:
    tags = parse_etags(request.headers.get("If-None-Match"))
    return "*" in tags or current in tags


def with_etag(response: Response, etag: str) -> Response:
    response["ETag"] = quote(etag)
    return response


def not_modified_response(etag: str) -> Response:
    return with_etag(Response(status=304), etag)
