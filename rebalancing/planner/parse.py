"""Validate a JSON-like `MultiWorldRebalanceRequest` into a typed `RebalanceRequest`.

Every problem is collected under its field path before anything is raised, so the caller sees all
of them at once. Optional keys may be absent or `null`; required keys may not be `null`. The
fields are read by `fields.RequestReader` and `objects`, then checked against each other by
`cross_checks` (docs/rebalancing.md, "Validation rules").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final, cast

from fieldreaders import RUN_ID_PATTERN, WORLD_ID_PATTERN

from .cross_checks import cross_check
from .errors import RebalanceValidationError
from .fields import DEFAULT_BOUNDS, NON_FIELD, InputBounds, RequestReader
from .objects import read_intent, read_overlay, read_positions
from .types import MODES, RebalanceRequest, SchemaVersion

__all__ = [
    "NON_FIELD",
    "WORLD_ID_RE",
    "InputBounds",
    "negotiate_schema_version",
    "parse_rebalance_request",
]

WORLD_ID_RE: Final = WORLD_ID_PATTERN
"""The world ids a request may name (the service filters stored allocations with it too)."""

REQUEST_KEYS: Final = (
    "total_equity",
    "world_alloc_before",
    "world_alloc_after",
    "positions",
    "strategy_alloc_before_total",
    "strategy_alloc_after_total",
    "min_trade_notional",
    "lot_size_by_symbol",
    "mode",
    "overlay",
    "schema_version",
    "rebalance_intent",
    "realized_returns_by_world",
    "realized_returns_by_strategy",
    "run_id",
)
REQUIRED_KEYS: Final = ("total_equity", "world_alloc_before", "world_alloc_after", "positions")


def parse_rebalance_request(
    data: Mapping[str, object] | object,
    *,
    compat_v2: bool,
    alpha_metrics_required: bool,
    bounds: InputBounds = DEFAULT_BOUNDS,
) -> RebalanceRequest:
    """Validate `data` and negotiate the schema version.

    A list or map longer than its bound in `bounds` is refused (400) without reading its items.

    Raises `RebalanceValidationError`:
    - 400 `invalid` for any malformed field (all of them listed in `errors`);
    - 501 `not_implemented` for `mode: "hybrid"`;
    - 400 `schema_version_required` when `alpha_metrics_required` is on and the caller asked for
      a version below 2.

    The response version is the requested one (default 1), capped at 2 when `compat_v2` is on and
    at 1 otherwise.
    """
    read = RequestReader(bounds)
    request = read_request(read, data)
    if read.errors or request is None:
        raise RebalanceValidationError(read.errors.errors, code="invalid", status=400)
    if request.mode == "hybrid":
        raise RebalanceValidationError(
            {"mode": ['"hybrid" mode is not implemented; use "scaling" or "overlay".']},
            code="not_implemented",
            status=501,
            detail='Rebalancing mode "hybrid" is not implemented.',
        )
    _require_version(request.requested_schema_version, alpha_metrics_required)
    negotiated = negotiate_schema_version(request.requested_schema_version, compat_v2=compat_v2)
    return replace(request, schema_version=negotiated)


def negotiate_schema_version(requested: int | None, *, compat_v2: bool) -> SchemaVersion:
    """The version a response uses for `requested` (default 1): capped at 2, or at 1 without v2."""
    cap = 2 if compat_v2 else 1
    return cast(SchemaVersion, max(1, min(requested or 1, cap)))


def _require_version(requested: int, alpha_metrics_required: bool) -> None:
    if alpha_metrics_required and requested < 2:
        message = (
            "schema_version>=2 is required: this deployment requires alpha_metrics "
            f"(requested schema_version={requested})."
        )
        raise RebalanceValidationError(
            {"schema_version": [message]},
            code="schema_version_required",
            status=400,
            detail=message,
        )


def read_request(read: RequestReader, data: object) -> RebalanceRequest | None:
    """The typed request, or None with every problem filed in `read.errors`."""
    body = read.mapping(data, "", text_keys=True, nullable=False)
    if body is None:
        return None
    read.check_keys(body, "", REQUEST_KEYS)
    read.require(body, "", REQUIRED_KEYS)
    fields = read.fields(body, "", _field_readers(read))
    if body.get("mode") == "overlay" and body.get("overlay") is None:
        read.add("overlay", 'is required when mode is "overlay"')
    if read.errors or fields is None:
        return None
    fields["requested_schema_version"] = fields.pop("schema_version", 1)
    request = RebalanceRequest(**fields)
    cross_check(read, request)
    return None if read.errors else request


def _field_readers(read: RequestReader) -> dict[str, Callable[[object, str], Any]]:
    """How each key of the body is read (an absent or null key is left to its default)."""
    return {
        "total_equity": read.non_negative,
        "world_alloc_before": read.world_ratios,
        "world_alloc_after": read.world_ratios,
        "positions": lambda value, path: read_positions(read, value, path),
        "strategy_alloc_before_total": read.strategy_ratios,
        "strategy_alloc_after_total": read.strategy_ratios,
        "min_trade_notional": read.non_negative,
        "lot_size_by_symbol": read.lot_sizes,
        "mode": lambda value, path: read.choice(value, path, MODES),
        "overlay": lambda value, path: read_overlay(read, value, path),
        "schema_version": lambda value, path: read.integer(value, path, minimum=1, maximum=2),
        "rebalance_intent": lambda value, path: read_intent(read, value, path),
        "realized_returns_by_world": read.world_returns,
        "realized_returns_by_strategy": read.strategy_returns,
        "run_id": lambda value, path: read.text(
            value,
            path,
            max_length=128,
            pattern=RUN_ID_PATTERN,
            mismatch="may only contain letters, digits and _ . : -",
        ),
    }
