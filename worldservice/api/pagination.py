"""Keyset (cursor) pagination: `?limit=&cursor=` → `{"results": [...], "next": url|null}`.

The cursor is the last key of the page, base64-encoded; pages stay stable while rows are added.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from worldservice.api.errors import InvalidInput
from worldservice.limits import MAX_JSON_INTEGER

M = TypeVar("M", bound=Model)

LIMIT_PATTERN = re.compile(r"-?[0-9]{1,12}")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
PAGE_PARAMS = [
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1},
        description=f"Page size (default {DEFAULT_LIMIT}, at most "
        f"{MAX_LIMIT}; larger values are clamped).",
    ),
    OpenApiParameter("cursor", str, description="The `next` link's cursor."),
]


def page_limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    # An empty `limit=` is a mistake, not a request for the default; the length bound keeps a
    # thousand-digit number from being converted at all.
    if not LIMIT_PATTERN.fullmatch(raw):
        raise InvalidInput("limit must be a whole number.", errors={"limit": ["Not a number."]})
    limit = int(raw)
    if limit < 1:
        raise InvalidInput("limit must be at least 1.", errors={"limit": ["Must be ≥ 1."]})
    return min(limit, MAX_LIMIT)


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> Any:
    try:
        padded = raw + "=" * (-len(raw) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidInput(
            "The cursor is not valid.",
            code="invalid_cursor",
            errors={"cursor": ["Not a cursor this service issued."]},
        ) from exc


def _is_key(value: Any) -> bool:
    """A cursor's key as this service issues them: an id number, or a short storable text."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) <= MAX_JSON_INTEGER
    return isinstance(value, str) and len(value) <= 256 and "\x00" not in value


@dataclass(frozen=True, slots=True)
class Page(Generic[M]):
    items: Sequence[M]
    next_url: str | None

    def response(self, serialize: Callable[[M], Any]) -> Response:
        return Response(
            {"results": [serialize(item) for item in self.items], "next": self.next_url}
        )


def paginate(
    request: Request, queryset: QuerySet[M], key: str = "id", *, newest_first: bool = False
) -> Page[M]:
    """One page of `queryset` in ascending `key` order (descending when `newest_first`), after
    the request's cursor."""
    limit = page_limit(request)
    raw_cursor = request.query_params.get("cursor")
    if raw_cursor:
        after = decode_cursor(raw_cursor)
        if not _is_key(after):
            raise InvalidInput("The cursor is not valid.", code="invalid_cursor")
        queryset = queryset.filter(**{f"{key}__lt" if newest_first else f"{key}__gt": after})
    rows = list(queryset.order_by(f"-{key}" if newest_first else key)[: limit + 1])
    next_url = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_url = replace_query_param(
            request.build_absolute_uri(), "cursor", encode_cursor(getattr(rows[-1], key))
        )
    return Page(rows, next_url)
