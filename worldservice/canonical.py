"""Canonical JSON: one byte string per value, for hashes, etags and fingerprints."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

from worldservice.wire_time import rfc3339


def json_safe(value: Any) -> Any:
    """`value` in a form JSON (and PostgreSQL jsonb) can hold without loss of meaning.

    Non-finite floats become the strings "NaN"/"Infinity"/"-Infinity" (jsonb refuses them),
    datetimes become RFC 3339 strings and tuples become lists. A value that is already plain
    JSON is returned as it is (checked at C speed, since large applies pass thousands).
    """
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return _converted(value)
    return value


def _converted(value: Any) -> Any:
    if value is None or isinstance(value, int | str):  # bool is an int
        return value
    if isinstance(value, float):
        return _finite_or_word(value)
    if isinstance(value, dict):
        return {str(key): _converted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_converted(item) for item in value]
    return _as_text(value)


def _finite_or_word(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return rfc3339(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _big_floats_as_ints(value: Any) -> Any:
    # PostgreSQL jsonb hands 1e+20 back as 100000000000000000000. Only floats Python writes with
    # an exponent (all integral, |x| >= 1e16) change spelling that way; write those as integers.
    if isinstance(value, float) and abs(value) >= 1e16:
        return int(value)
    if isinstance(value, dict):
        return {key: _big_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_big_floats_as_ints(item) for item in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_json(value: Any) -> str:
    """One text per value, equal before and after a PostgreSQL jsonb round trip."""
    try:
        text = _dumps(value)
    except (TypeError, ValueError):
        return _dumps(_big_floats_as_ints(_converted(value)))
    return _dumps(_big_floats_as_ints(value)) if "e+" in text else text


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of `value`."""
    return "sha256:" + sha256_hex(canonical_json(value))
