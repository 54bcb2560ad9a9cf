"""A request's query parameters, read cheaply when the query is plain.

`request.GET` builds a `QueryDict` (percent-decoding, the field limit, re-decoding the WSGI
string as UTF-8): about as much CPU as a whole hot read. The Gateway's activation read sends a
plain query (`strategy_id=...&side=long`: ASCII, nothing escaped), which splitting on `&` and
`=` reads exactly as Django would; any other query is left to `request.GET`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ESCAPES = ("%", "+")
PLAIN_FIELDS_MAX = 8  # more fields than this go to Django (and its DATA_UPLOAD_MAX_NUMBER_FIELDS)
PARAMS_ATTRIBUTE = "_worldservice_query_params"


def query_params(request: Any) -> Mapping[str, str]:
    """Each parameter's last value, as `request.GET.get` gives it (read once per request)."""
    params: Mapping[str, str] | None = getattr(request, PARAMS_ATTRIBUTE, None)
    if params is None:
        params = _plain(request.META.get("QUERY_STRING", ""))
        if params is None:
            params = request.GET.dict()
        setattr(request, PARAMS_ATTRIBUTE, params)
    return params


def _plain(query: str) -> dict[str, str] | None:
    """The parameters of a plain query (as `QueryDict` would read them), else None."""
    if not query.isascii() or any(escape in query for escape in ESCAPES):
        return None
    fields = [field for field in query.split("&") if field]
    if len(fields) > PLAIN_FIELDS_MAX:
        return None
    params: dict[str, str] = {}
    for field in fields:
        name, _, value = field.partition("=")
        params[name] = value
    return params
