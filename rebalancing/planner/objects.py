"""The objects nested in a rebalance request: positions, `overlay` and `rebalance_intent`."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from .fields import RequestReader
from .types import OverlayConfig, Position, RebalanceIntent

POSITION_KEYS: Final = ("world_id", "strategy_id", "symbol", "qty", "mark", "venue")
REQUIRED_POSITION_KEYS: Final = ("world_id", "strategy_id", "symbol", "qty", "mark")
OVERLAY_KEYS: Final = ("instrument_by_world", "price_by_symbol", "min_order_notional")
REQUIRED_OVERLAY_KEYS: Final = ("instrument_by_world", "price_by_symbol")
INTENT_KEYS: Final = ("meta",)


def read_positions(read: RequestReader, value: object, path: str) -> tuple[Position, ...] | None:
    return read.items(
        value,
        path,
        lambda item, item_path: _position(read, item, item_path),
        limit=read.bounds.positions,
        noun="positions",
    )


def _position(read: RequestReader, value: object, path: str) -> Position | None:
    section = read.mapping(value, path, text_keys=True, nullable=False)
    if section is None:
        return None
    known = all(key in POSITION_KEYS for key in section)
    read.check_keys(section, path, POSITION_KEYS)
    if not read.require(section, path, REQUIRED_POSITION_KEYS) or not known:
        return None
    fields = read.fields(
        section,
        path,
        {
            "world_id": read.world_id,
            "strategy_id": read.strategy_id,
            "symbol": read.symbol,
            "qty": read.amount,
            "mark": read.non_negative,
            "venue": read.symbol,
        },
    )
    return Position(**fields) if fields is not None else None


def read_overlay(read: RequestReader, value: object, path: str) -> OverlayConfig | None:
    section = read.mapping(value, path, text_keys=True, nullable=False)
    if section is None:
        return None
    read.check_keys(section, path, OVERLAY_KEYS)
    complete = read.require(section, path, REQUIRED_OVERLAY_KEYS)
    fields = read.fields(
        section,
        path,
        {
            "instrument_by_world": lambda v, p: _instruments(read, v, p),
            "price_by_symbol": lambda v, p: read.keyed(
                v, p, read.symbol, read.positive, read.bounds.symbols
            ),
            "min_order_notional": read.non_negative,
        },
    )
    if fields is None or not complete:
        return None
    overlay = OverlayConfig(**fields)
    _check_priced(read, overlay, read.join_key(path, "instrument_by_world"))
    return overlay


def _instruments(read: RequestReader, value: object, path: str) -> dict[str, str] | None:
    """`{world_id: symbol}`, naming at least one world."""
    instruments = read.keyed(value, path, read.world_id, read.symbol, read.bounds.worlds)
    if instruments == {}:
        read.add(path, "must name at least one world")
        return None
    return instruments


def _check_priced(read: RequestReader, overlay: OverlayConfig, path: str) -> None:
    for world_id, instrument in overlay.instrument_by_world.items():
        if instrument not in overlay.price_by_symbol:
            read.add(
                read.join_key(path, world_id),
                f'instrument "{instrument}" has no price in overlay.price_by_symbol',
            )


def read_intent(read: RequestReader, value: object, path: str) -> RebalanceIntent | None:
    section = read.mapping(value, path, text_keys=True, nullable=False)
    if section is None:
        return None
    read.check_keys(section, path, INTENT_KEYS)
    if section.get("meta") is None:
        return RebalanceIntent(meta={})
    meta_path = read.join_key(path, "meta")
    meta = read.mapping(section["meta"], meta_path, text_keys=True, nullable=False)
    if meta is None:
        return None
    if not _is_finite_json(meta):
        read.add(meta_path, "must hold only finite JSON values")
        return None
    if len(json.dumps(meta, ensure_ascii=False)) > read.bounds.meta_bytes:
        read.add(meta_path, f"must be at most {read.bounds.meta_bytes} bytes of JSON")
        return None
    return RebalanceIntent(meta=dict(meta))


def _is_finite_json(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_finite_json(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_is_finite_json(v) for v in value)
    return value is None or isinstance(value, str | int | bool)
