"""Validate a JSON-like `MultiWorldRebalanceRequest` into a typed `RebalanceRequest`.

Every problem is collected under its field path before anything is raised, so the caller sees all
of them at once. Optional keys may be absent or `null`; required keys may not be `null`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar, cast

from .errors import RebalanceValidationError
from .types import (
    MODES,
    SUPPORTED_SCHEMA_VERSIONS,
    Mode,
    OverlayConfig,
    Position,
    RebalanceIntent,
    RebalanceRequest,
    SchemaVersion,
)

T = TypeVar("T")

WORLD_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
RUN_ID_RE: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_NO_SPACE_RE: Final = re.compile(r"^\S+$")

MAX_STRATEGY_ID_LEN: Final = 128
MAX_SYMBOL_LEN: Final = 128
MAX_VENUE_LEN: Final = 128
#: Largest magnitude accepted for any number: far above any real quantity, price or equity, and
#: small enough that products of two such numbers stay finite.
MAX_ABS: Final = 1e18

NON_FIELD: Final = "non_field_errors"


@dataclass(frozen=True, slots=True)
class InputBounds:
    """How much one request may carry; each count is checked before its items are read.

    The service passes its configured bounds (`worldservice.limits`); these defaults match them.
    """

    positions: int = 20_000
    worlds: int = 1_000
    strategies: int = 20_000
    symbols: int = 20_000
    series_points: int = 100_000
    meta_bytes: int = 16 * 1024


DEFAULT_BOUNDS: Final = InputBounds()

REQUEST_KEYS: Final = frozenset(
    {
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
    }
)
REQUIRED_KEYS: Final = ("total_equity", "world_alloc_before", "world_alloc_after", "positions")
POSITION_KEYS: Final = frozenset({"world_id", "strategy_id", "symbol", "qty", "mark", "venue"})
OVERLAY_KEYS: Final = frozenset({"instrument_by_world", "price_by_symbol", "min_order_notional"})
INTENT_KEYS: Final = frozenset({"meta"})


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
    parser = _Parser(bounds)
    request = parser.request(data)
    if parser.errors or request is None:
        raise RebalanceValidationError(parser.errors, code="invalid", status=400)

    if request.mode == "hybrid":
        raise RebalanceValidationError(
            {"mode": ['"hybrid" mode is not implemented; use "scaling" or "overlay".']},
            code="not_implemented",
            status=501,
            detail='Rebalancing mode "hybrid" is not implemented.',
        )

    requested = request.requested_schema_version
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

    cap = 2 if compat_v2 else 1
    negotiated = cast(SchemaVersion, min(requested, cap))
    return replace(request, schema_version=negotiated)


def negotiate_schema_version(requested: int | None, *, compat_v2: bool) -> SchemaVersion:
    """The version a response uses for `requested` (default 1): capped at 2, or at 1 without v2."""
    cap = 2 if compat_v2 else 1
    return cast(SchemaVersion, max(1, min(requested or 1, cap)))


class _Parser:
    """Collects errors by field path while converting JSON values to typed ones."""

    def __init__(self, bounds: InputBounds = DEFAULT_BOUNDS) -> None:
        self.errors: dict[str, list[str]] = {}
        self.bounds = bounds

    # --- plumbing ------------------------------------------------------------------------------

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path or NON_FIELD, []).append(message)

    def _object(self, value: object, path: str) -> Mapping[str, object] | None:
        if not isinstance(value, Mapping):
            self.error(path, f"must be an object, not {_json_type(value)}.")
            return None
        bad = [key for key in value if not isinstance(key, str)]
        if bad:
            self.error(path, "keys must be strings.")
            return None
        return cast(Mapping[str, object], value)

    def _check_keys(self, obj: Mapping[str, object], allowed: frozenset[str], path: str) -> None:
        for key in sorted(set(obj) - allowed):
            self.error(_join(path, key), "unknown field.")

    def number(
        self,
        value: object,
        path: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(path, f"must be a number, not {_json_type(value)}.")
            return None
        try:
            number = float(value)
        except OverflowError:
            self.error(path, "must be a finite number.")
            return None
        if not math.isfinite(number):
            self.error(path, "must be a finite number.")
            return None
        if abs(number) > MAX_ABS:
            self.error(path, "must be between -1e18 and 1e18.")
            return None
        if positive and number <= 0:
            self.error(path, "must be greater than 0.")
            return None
        if minimum is not None and number < minimum:
            self.error(path, f"must be at least {_fmt(minimum)}.")
            return None
        if maximum is not None and number > maximum:
            self.error(path, f"must be at most {_fmt(maximum)}.")
            return None
        return number

    def ratio(self, value: object, path: str) -> float | None:
        return self.number(value, path, minimum=0.0, maximum=1.0)

    def string(
        self,
        value: object,
        path: str,
        *,
        max_len: int,
        pattern: re.Pattern[str] = _NO_SPACE_RE,
        what: str = "",
    ) -> str | None:
        if not isinstance(value, str):
            self.error(path, f"must be a string, not {_json_type(value)}.")
            return None
        if not value:
            self.error(path, "must not be empty.")
            return None
        if len(value) > max_len:
            self.error(path, f"must be at most {max_len} characters.")
            return None
        if not pattern.match(value):
            self.error(path, what or "must not contain whitespace.")
            return None
        return value

    def world_id(self, value: object, path: str) -> str | None:
        return self.string(
            value,
            path,
            max_len=64,
            pattern=WORLD_ID_RE,
            what="is not a valid world id (^[a-z0-9][a-z0-9_.-]{0,63}$).",
        )

    def strategy_id(self, value: object, path: str) -> str | None:
        sid = self.string(value, path, max_len=MAX_STRATEGY_ID_LEN)
        if sid is not None and "|" in sid:
            self.error(path, 'must not contain "|".')
            return None
        return sid

    def symbol(self, value: object, path: str) -> str | None:
        return self.string(value, path, max_len=MAX_SYMBOL_LEN)

    def keyed_map(
        self,
        value: object,
        path: str,
        key_check: Callable[[str, str], str | None],
        item: Callable[[object, str], T | None],
        max_items: int,
    ) -> dict[str, T] | None:
        """An object whose keys are ids (checked by `key_check`) and values parsed by `item`;
        at most `max_items` keys, counted before any is read."""
        obj = self._object(value, path)
        if obj is None:
            return None
        if len(obj) > max_items:
            self.error(path, f"must have at most {max_items} keys.")
            return None
        out: dict[str, T] = {}
        ok = True
        for key in sorted(obj):
            key_path = _join(path, key)
            if key_check(key, key_path) is None:
                ok = False
                continue
            parsed = item(obj[key], key_path)
            if parsed is None:
                ok = False
                continue
            out[key] = parsed
        return out if ok else None

    # --- the request ---------------------------------------------------------------------------

    def request(self, data: object) -> RebalanceRequest | None:
        obj = self._object(data, "")
        if obj is None:
            return None
        self._check_keys(obj, REQUEST_KEYS, "")
        for key in REQUIRED_KEYS:
            if obj.get(key) is None:
                self.error(key, "this field is required.")

        def opt(key: str) -> object | None:
            return obj.get(key)

        total_equity = (
            self.number(obj["total_equity"], "total_equity", minimum=0.0)
            if opt("total_equity") is not None
            else None
        )
        before = self._world_ratios(opt("world_alloc_before"), "world_alloc_before")
        after = self._world_ratios(opt("world_alloc_after"), "world_alloc_after")
        positions = self._positions(opt("positions"))
        strat_before = self._strategy_ratios(
            opt("strategy_alloc_before_total"), "strategy_alloc_before_total"
        )
        strat_after = self._strategy_ratios(
            opt("strategy_alloc_after_total"), "strategy_alloc_after_total"
        )
        min_trade = 0.0
        if opt("min_trade_notional") is not None:
            min_trade = (
                self.number(obj["min_trade_notional"], "min_trade_notional", minimum=0.0) or 0.0
            )
        lots = None
        if opt("lot_size_by_symbol") is not None:
            lots = self.keyed_map(
                obj["lot_size_by_symbol"],
                "lot_size_by_symbol",
                self.symbol,
                lambda v, p: self.number(v, p, positive=True),
                self.bounds.symbols,
            )
        mode = self._mode(opt("mode"))
        overlay = self._overlay(opt("overlay")) if opt("overlay") is not None else None
        requested_version = self._schema_version(opt("schema_version"))
        intent = self._intent(opt("rebalance_intent"))
        returns_by_world = None
        if opt("realized_returns_by_world") is not None:
            returns_by_world = self.keyed_map(
                obj["realized_returns_by_world"],
                "realized_returns_by_world",
                self.world_id,
                self._returns,
                self.bounds.worlds,
            )
        returns_by_strategy = None
        if opt("realized_returns_by_strategy") is not None:
            returns_by_strategy = self.keyed_map(
                obj["realized_returns_by_strategy"],
                "realized_returns_by_strategy",
                self.strategy_id,
                self._returns,
                self.bounds.strategies,
            )
        run_id = None
        if opt("run_id") is not None:
            run_id = self.string(
                obj["run_id"],
                "run_id",
                max_len=128,
                pattern=RUN_ID_RE,
                what="may only contain letters, digits and _ . : -",
            )

        if mode == "overlay" and opt("overlay") is None:
            self.error("overlay", 'is required when mode is "overlay".')

        if self.errors or total_equity is None or before is None or after is None:
            return None
        if positions is None:
            return None

        request = RebalanceRequest(
            total_equity=total_equity,
            world_alloc_before=before,
            world_alloc_after=after,
            positions=positions,
            strategy_alloc_before_total=strat_before,
            strategy_alloc_after_total=strat_after,
            min_trade_notional=min_trade,
            lot_size_by_symbol=lots,
            mode=mode,
            overlay=overlay,
            requested_schema_version=requested_version,
            rebalance_intent=intent,
            realized_returns_by_world=returns_by_world,
            realized_returns_by_strategy=returns_by_strategy,
            run_id=run_id,
        )
        self._cross_check(request)
        return None if self.errors else request

    def _world_ratios(self, value: object, path: str) -> dict[str, float] | None:
        if value is None:
            return None
        return self.keyed_map(value, path, self.world_id, self.ratio, self.bounds.worlds)

    def _strategy_ratios(self, value: object, path: str) -> dict[str, dict[str, float]] | None:
        if value is None:
            return None

        def per_world(v: object, p: str) -> dict[str, float] | None:
            return self.keyed_map(v, p, self.strategy_id, self.ratio, self.bounds.strategies)

        return self.keyed_map(value, path, self.world_id, per_world, self.bounds.worlds)

    def _positions(self, value: object) -> tuple[Position, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list | tuple):
            self.error("positions", f"must be a list, not {_json_type(value)}.")
            return None
        if len(value) > self.bounds.positions:
            self.error("positions", f"must have at most {self.bounds.positions} positions.")
            return None
        out: list[Position] = []
        ok = True
        for index, raw in enumerate(value):
            position = self._position(raw, f"positions[{index}]")
            if position is None:
                ok = False
            else:
                out.append(position)
        return tuple(out) if ok else None

    def _position(self, value: object, path: str) -> Position | None:
        obj = self._object(value, path)
        if obj is None:
            return None
        before = len(self.errors)
        self._check_keys(obj, POSITION_KEYS, path)
        for key in ("world_id", "strategy_id", "symbol", "qty", "mark"):
            if obj.get(key) is None:
                self.error(_join(path, key), "this field is required.")
        if len(self.errors) != before:
            return None
        world_id = self.world_id(obj["world_id"], _join(path, "world_id"))
        strategy_id = self.strategy_id(obj["strategy_id"], _join(path, "strategy_id"))
        symbol = self.symbol(obj["symbol"], _join(path, "symbol"))
        qty = self.number(obj["qty"], _join(path, "qty"))
        mark = self.number(obj["mark"], _join(path, "mark"), minimum=0.0)
        venue = None
        if obj.get("venue") is not None:
            venue = self.string(obj["venue"], _join(path, "venue"), max_len=MAX_VENUE_LEN)
            if venue is None:
                return None
        if world_id is None or strategy_id is None or symbol is None or qty is None or mark is None:
            return None
        return Position(
            world_id=world_id,
            strategy_id=strategy_id,
            symbol=symbol,
            qty=qty,
            mark=mark,
            venue=venue,
        )

    def _mode(self, value: object) -> Mode:
        if value is None:
            return "scaling"
        if not isinstance(value, str) or value not in MODES:
            self.error("mode", 'must be one of "scaling", "overlay", "hybrid".')
            return "scaling"
        return cast(Mode, value)

    def _overlay(self, value: object) -> OverlayConfig | None:
        obj = self._object(value, "overlay")
        if obj is None:
            return None
        self._check_keys(obj, OVERLAY_KEYS, "overlay")
        instruments: dict[str, str] | None = None
        prices: dict[str, float] | None = None
        raw_instruments = obj.get("instrument_by_world")
        if raw_instruments is None:
            self.error("overlay.instrument_by_world", "this field is required.")
        else:
            instruments = self.keyed_map(
                raw_instruments,
                "overlay.instrument_by_world",
                self.world_id,
                self.symbol,
                self.bounds.worlds,
            )
            if instruments is not None and not instruments:
                self.error("overlay.instrument_by_world", "must name at least one world.")
        raw_prices = obj.get("price_by_symbol")
        if raw_prices is None:
            self.error("overlay.price_by_symbol", "this field is required.")
        else:
            prices = self.keyed_map(
                raw_prices,
                "overlay.price_by_symbol",
                self.symbol,
                lambda v, p: self.number(v, p, positive=True),
                self.bounds.symbols,
            )
        min_order = None
        if obj.get("min_order_notional") is not None:
            min_order = self.number(
                obj["min_order_notional"], "overlay.min_order_notional", minimum=0.0
            )
            if min_order is None:
                return None
        if instruments is None or prices is None:
            return None
        for world_id, instrument in sorted(instruments.items()):
            if instrument not in prices:
                self.error(
                    f"overlay.instrument_by_world.{world_id}",
                    f'instrument "{instrument}" has no price in overlay.price_by_symbol.',
                )
        return OverlayConfig(
            instrument_by_world=instruments,
            price_by_symbol=prices,
            min_order_notional=min_order,
        )

    def _schema_version(self, value: object) -> int:
        if value is None:
            return 1
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer() and int(value) in (1, 2):
                return int(value)
            self.error("schema_version", "must be 1 or 2.")
            return 1
        if value not in SUPPORTED_SCHEMA_VERSIONS:
            self.error("schema_version", "must be 1 or 2.")
            return 1
        return value

    def _intent(self, value: object) -> RebalanceIntent | None:
        if value is None:
            return None
        obj = self._object(value, "rebalance_intent")
        if obj is None:
            return None
        self._check_keys(obj, INTENT_KEYS, "rebalance_intent")
        meta = obj.get("meta")
        if meta is None:
            return RebalanceIntent(meta={})
        meta_obj = self._object(meta, "rebalance_intent.meta")
        if meta_obj is None:
            return None
        if not _is_finite_json(meta_obj):
            self.error("rebalance_intent.meta", "must hold only finite JSON values.")
            return None
        if len(json.dumps(meta_obj, ensure_ascii=False)) > self.bounds.meta_bytes:
            self.error(
                "rebalance_intent.meta", f"must be at most {self.bounds.meta_bytes} bytes of JSON."
            )
            return None
        return RebalanceIntent(meta=dict(meta_obj))

    def _returns(self, value: object, path: str) -> tuple[float, ...] | None:
        if not isinstance(value, list | tuple):
            self.error(path, f"must be a list of numbers, not {_json_type(value)}.")
            return None
        if len(value) > self.bounds.series_points:
            self.error(path, f"must have at most {self.bounds.series_points} returns.")
            return None
        out: list[float] = []
        ok = True
        for index, item in enumerate(value):
            number = self.number(item, f"{path}[{index}]")
            if number is None:
                ok = False
            else:
                out.append(number)
        return tuple(out) if ok else None

    # --- checks across fields ------------------------------------------------------------------

    def _cross_check(self, request: RebalanceRequest) -> None:
        planned = set(request.world_alloc_before) | set(request.world_alloc_after)
        if not planned:
            self.error(
                "world_alloc_after",
                "world_alloc_before and world_alloc_after name no world.",
            )
            return
        unplanned = "is not in world_alloc_before or world_alloc_after."
        for index, position in enumerate(request.positions):
            if position.world_id not in planned:
                self.error(
                    f"positions[{index}].world_id", f'world "{position.world_id}" {unplanned}'
                )
        for name, mapping in (
            ("strategy_alloc_before_total", request.strategy_alloc_before_total),
            ("strategy_alloc_after_total", request.strategy_alloc_after_total),
            ("realized_returns_by_world", request.realized_returns_by_world),
        ):
            for world_id in sorted(mapping or {}):
                if world_id not in planned:
                    self.error(_join(name, world_id), f'world "{world_id}" {unplanned}')
        overlay = request.overlay
        if overlay is not None:
            for world_id in sorted(overlay.instrument_by_world):
                if world_id not in planned:
                    self.error(
                        f"overlay.instrument_by_world.{world_id}", f'world "{world_id}" {unplanned}'
                    )
            if request.mode == "overlay":
                held = sorted({p.world_id for p in request.positions})
                for world_id in held:
                    if world_id not in overlay.instrument_by_world:
                        self.error(
                            "overlay.instrument_by_world",
                            f'no overlay instrument for world "{world_id}", which holds positions.',
                        )


# --- helpers -----------------------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, Sequence):
        return "a list"
    return type(value).__name__


def _is_finite_json(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_finite_json(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_is_finite_json(v) for v in value)
    return value is None or isinstance(value, str | int | bool)
