"""Reading time off the wire: RFC 3339 with an offset, within the service's bounds.

Writing it is `worldservice/wire_time.py`, which needs no Django (the pure libraries use it).
"""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_datetime

from worldservice.wire_time import rfc3339

__all__ = ["TIME_HINT", "parse_rfc3339", "rfc3339"]

TIME_HINT = "Expected an RFC 3339 time from 1900 to 2999 with an offset, e.g. 2025-08-28T09:00:00Z."


def parse_rfc3339(value: str) -> dt.datetime | None:
    """An aware datetime from RFC 3339 text, or None when it is not one.

    A value without an offset is refused rather than guessed, and so is a time outside the
    range the service accepts (`worldservice.limits`): `0001-01-01T00:00:00+01:00` is a valid
    text whose UTC time does not exist in Python, and years far away only invite overflow in
    later arithmetic.
    """
    from worldservice.limits import EARLIEST_TIME, LATEST_TIME

    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = parse_datetime(value.strip())
        if moment is None or moment.tzinfo is None:
            return None
        moment = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None
    if not EARLIEST_TIME <= moment < LATEST_TIME:
        return None
    return moment
