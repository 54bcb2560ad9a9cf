"""The planner's field readers: ids, amounts, ratios, id-keyed maps and return series.

Built on the shared readers (`fieldreaders`), so a request body's problems are worded as the
policy language words them (docs/rebalancing.md, "Validation rules"). Paths join every key with a
dot (`world_alloc_before.W 1`); whole-body problems go under `non_field_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar

from fieldreaders import (
    STRATEGY_ID_PATTERN,
    WORLD_ID_PATTERN,
    FieldErrors,
    FieldReader,
    dotted_key,
)

T = TypeVar("T")

NON_FIELD: Final = "non_field_errors"
MAX_ID_LENGTH: Final = 128
#: Largest magnitude accepted for any number: far above any real quantity, price or equity, and
#: small enough that products of two such numbers stay finite.
MAX_ABS: Final = 1e18
_NO_SPACE: Final = re.compile(r"\S+")


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


class RequestReader(FieldReader):
    """Reads the fields of one rebalance request within `bounds`."""

    def __init__(self, bounds: InputBounds = DEFAULT_BOUNDS) -> None:
        super().__init__(FieldErrors(root=NON_FIELD), join_key=dotted_key)
        self.bounds = bounds

    # --- numbers -------------------------------------------------------------------------------

    def amount(self, value: object, path: str, *, minimum: float = -MAX_ABS) -> float | None:
        """A finite number of magnitude at most `MAX_ABS`, at least `minimum`."""
        return self.number(value, path, minimum=minimum, maximum=MAX_ABS)

    def non_negative(self, value: object, path: str) -> float | None:
        return self.amount(value, path, minimum=0.0)

    def positive(self, value: object, path: str) -> float | None:
        return self.number(value, path, above=0.0, maximum=MAX_ABS)

    def ratio(self, value: object, path: str) -> float | None:
        """A share of equity, from 0 to 1."""
        return self.number(value, path, minimum=0.0, maximum=1.0)

    def returns(self, value: object, path: str) -> tuple[float, ...] | None:
        """A series of realized returns."""
        return self.items(value, path, self.amount, limit=self.bounds.series_points, noun="returns")

    # --- ids -----------------------------------------------------------------------------------

    def world_id(self, value: object, path: str) -> str | None:
        return self.text(
            value,
            path,
            max_length=64,
            pattern=WORLD_ID_PATTERN,
            mismatch=f"is not a valid world id ({WORLD_ID_PATTERN.pattern})",
        )

    def strategy_id(self, value: object, path: str) -> str | None:
        return self.text(
            value,
            path,
            max_length=MAX_ID_LENGTH,
            pattern=STRATEGY_ID_PATTERN,
            mismatch="must not contain whitespace or '|'",
        )

    def symbol(self, value: object, path: str) -> str | None:
        """A symbol or a venue: text without whitespace."""
        return self.text(
            value,
            path,
            max_length=MAX_ID_LENGTH,
            pattern=_NO_SPACE,
            mismatch="must not contain whitespace",
        )

    # --- maps keyed by id ----------------------------------------------------------------------

    def keyed(
        self,
        value: object,
        path: str,
        read_key: Callable[[object, str], str | None],
        read_value: Callable[[object, str], T | None],
        limit: int,
    ) -> dict[str, T] | None:
        """An object whose keys are ids and whose values are read by `read_value`, in key order;
        at most `limit` keys, counted before any is read."""
        section = self.mapping(value, path, text_keys=True, nullable=False)
        if section is None or not self.within(len(section), path, limit, "entries"):
            return None
        entries = self.entries(section, path, read_key, read_value)
        return dict(sorted(entries.items())) if entries is not None else None

    def world_ratios(self, value: object, path: str) -> dict[str, float] | None:
        return self.keyed(value, path, self.world_id, self.ratio, self.bounds.worlds)

    def strategy_ratios(self, value: object, path: str) -> dict[str, dict[str, float]] | None:
        """`{world_id: {strategy_id: ratio}}`."""
        return self.keyed(value, path, self.world_id, self._strategy_shares, self.bounds.worlds)

    def _strategy_shares(self, value: object, path: str) -> dict[str, float] | None:
        return self.keyed(value, path, self.strategy_id, self.ratio, self.bounds.strategies)

    def lot_sizes(self, value: object, path: str) -> dict[str, float] | None:
        return self.keyed(value, path, self.symbol, self.positive, self.bounds.symbols)

    def world_returns(self, value: object, path: str) -> dict[str, tuple[float, ...]] | None:
        return self.keyed(value, path, self.world_id, self.returns, self.bounds.worlds)

    def strategy_returns(self, value: object, path: str) -> dict[str, tuple[float, ...]] | None:
        return self.keyed(value, path, self.strategy_id, self.returns, self.bounds.strategies)
