"""Canonical JSON: one byte string per value, for hashes, etags and fingerprints."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from typing import Any

from worldservice.clock import rfc3339


def json_safe(value: Any) -> Any:
    """A copy of `value` that JSON (and PostgreSQL jsonb) can hold without loss of meaning.

    Non-finite floats become the strings "NaN"/"Infinity"/"-Infinity" (jsonb refuses them),
    datetimes become RFC 3339 strings and tuples become lists.
    """
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dt.datetime):
        return rfc3339(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _integral_floats_as_ints(value: Any) -> Any:
    # PostgreSQL jsonb hands 1e20 back as 100000000000000000000: spell such numbers one way.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    return value


def canonical_json(value: Any) -> str:
    return json.dumps(
        _integral_floats_as_ints(json_safe(value)),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of `value`."""
    return "sha256:" + sha256_hex(canonical_json(value))
