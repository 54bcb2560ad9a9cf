"""Time on the wire: RFC 3339 in UTC with `Z`."""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_datetime


def rfc3339(moment: dt.datetime, *, seconds: bool = False) -> str:
    """UTC RFC 3339 with a `Z`; `seconds=True` drops the fraction (envelope precision)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes have no place on the wire")
    moment = moment.astimezone(dt.UTC)
    if seconds:
        moment = moment.replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def parse_rfc3339(value: str) -> dt.datetime | None:
    """An aware datetime from RFC 3339 text, or None when it is not one.

    A value without an offset is refused rather than guessed.
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(dt.UTC)
