"""Time on the wire: RFC 3339 in UTC with `Z` (plain Python, no Django)."""

from __future__ import annotations

import datetime as dt


def rfc3339(moment: dt.datetime, *, seconds: bool = False) -> str:
    """UTC RFC 3339 with a `Z`; `seconds=True` drops the fraction (envelope precision)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes have no place on the wire")
    moment = moment.astimezone(dt.UTC)
    if seconds:
        moment = moment.replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")
