"""`FieldReader`: reads one value at a time out of a decoded document, filing every problem.

Each method returns the value read, or None after filing a message under the value's path, so a
caller reads every field, then looks at `errors` once. An absent optional value is None too: the
`*_at` methods take a mapping and a key, and say "is required" only when asked to.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from .errors import FieldErrors
from .paths import KeyJoiner, join_index, quoted_key
from .wording import (
    choice_message,
    describe_type,
    range_message,
    show,
    too_many_message,
    unknown_choice,
)

K = TypeVar("K")
V = TypeVar("V")

REQUIRED = "is required"


class FieldReader:
    """Reads fields and files their problems in `errors`, with paths joined by `join_key`."""

    def __init__(self, errors: FieldErrors, *, join_key: KeyJoiner = quoted_key) -> None:
        self.errors = errors
        self.join_key = join_key

    def add(self, path: str, message: str) -> None:
        self.errors.add(path, message)

    # --- structure -----------------------------------------------------------------------------

    def mapping(
        self,
        value: object,
        path: str,
        *,
        required: bool = False,
        text_keys: bool = False,
        nullable: bool = True,
    ) -> Mapping[Any, Any] | None:
        """A mapping (JSON object); with `text_keys`, one whose keys are all text.

        null means "absent" (`is required` when `required`), unless `nullable` is off: then it is
        a value of the wrong kind, as for a list item or a map's value.
        """
        if value is None and nullable:
            if required:
                self.add(path, REQUIRED)
            return None
        if not isinstance(value, Mapping):
            self.add(path, f"must be a mapping, not {describe_type(value)}")
            return None
        if text_keys and not all(isinstance(key, str) for key in value):
            self.add(path, "keys must be text")
            return None
        return value

    def check_keys(self, section: Mapping[Any, Any], path: str, allowed: Iterable[str]) -> None:
        """Files `unknown key …` for every key of `section` not in `allowed`."""
        options = tuple(allowed)
        for key in section:
            if key not in options:
                self.add(self.join_key(path, key), unknown_choice("key", key, options))

    def require(self, section: Mapping[Any, Any], path: str, keys: Iterable[str]) -> bool:
        """Whether every key of `keys` is given (not null); files `is required` for each one not."""
        missing = [key for key in keys if section.get(key) is None]
        for key in missing:
            self.add(self.join_key(path, key), REQUIRED)
        return not missing

    def within(self, size: int, path: str, limit: int, noun: str) -> bool:
        """Whether a list or mapping of `size` items keeps to `limit` (checked before reading
        any item, so an oversized one costs nothing)."""
        if size > limit:
            self.add(path, too_many_message(limit, size, noun))
            return False
        return True

    def items(
        self,
        value: object,
        path: str,
        read_item: Callable[[object, str], V | None],
        *,
        limit: int,
        noun: str,
    ) -> tuple[V, ...] | None:
        """A list read item by item (`path[i]`); None when it or any item is invalid."""
        if not isinstance(value, list | tuple):
            self.add(path, f"must be a list, not {describe_type(value)}")
            return None
        if not self.within(len(value), path, limit, noun):
            return None
        read: list[V] = []
        for index, item in enumerate(value):
            item_value = read_item(item, join_index(path, index))
            if item_value is not None:
                read.append(item_value)
        return tuple(read) if len(read) == len(value) else None

    def entries(
        self,
        section: Mapping[Any, Any],
        path: str,
        read_key: Callable[[object, str], K | None],
        read_value: Callable[[object, str], V | None],
    ) -> dict[K, V] | None:
        """Every entry of a mapping, its key read by `read_key` and its value by `read_value`
        (both at the entry's path); None when any is invalid."""
        result: dict[K, V] = {}
        complete = True
        for raw_key, raw_value in section.items():
            entry_path = self.join_key(path, raw_key)
            key = read_key(raw_key, entry_path)
            value = read_value(raw_value, entry_path) if key is not None else None
            if key is None or value is None:
                complete = False
            else:
                result[key] = value
        return result if complete else None

    def fields(
        self,
        section: Mapping[Any, Any],
        path: str,
        readers: Mapping[str, Callable[[object, str], object | None]],
    ) -> dict[str, Any] | None:
        """Every key of `readers` that `section` gives (absent and null are skipped), read by its
        reader at its path; None when any is invalid."""
        values: dict[str, Any] = {}
        complete = True
        for key, read_value in readers.items():
            raw = section.get(key)
            if raw is None:
                continue
            value = read_value(raw, self.join_key(path, key))
            if value is None:
                complete = False
            else:
                values[key] = value
        return values if complete else None

    # --- scalars -------------------------------------------------------------------------------

    def number(
        self,
        value: object,
        path: str,
        *,
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
    ) -> float | None:
        """A finite number (not true/false), at least `minimum`, more than `above`, at most
        `maximum` (each when given)."""
        number = self._finite(value, path)
        if number is None:
            return None
        if not _in_range(number, minimum, above, maximum):
            self.add(path, range_message(minimum, above, maximum))
            return None
        return number

    def number_at(
        self,
        section: Mapping[Any, Any],
        key: str,
        path: str,
        *,
        required: bool = False,
        minimum: float | None = None,
        above: float | None = None,
        maximum: float | None = None,
    ) -> float | None:
        """`number` of `section[key]`; None when it is absent (`is required` if `required`)."""
        value = self._value_at(section, key, path, required=required)
        if value is None:
            return None
        return self.number(
            value, self.join_key(path, key), minimum=minimum, above=above, maximum=maximum
        )

    def integer(
        self,
        value: object,
        path: str,
        *,
        minimum: int,
        maximum: int | None = None,
        whole_floats: bool = True,
    ) -> int | None:
        """A whole number from `minimum` to `maximum`; a float such as 3.0 counts unless
        `whole_floats` is off (a field whose JSON was always an integer)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, f"must be a whole number, not {describe_type(value)}")
            return None
        if isinstance(value, float) and not (whole_floats and value.is_integer()):
            shown = f", not {show(value)}" if math.isfinite(value) else ""
            self.add(path, f"must be a whole number{shown}")
            return None
        if value < minimum:
            self.add(path, f"must be at least {minimum}")
            return None
        if maximum is not None and value > maximum:
            self.add(path, f"must be at most {maximum}")
            return None
        return int(value)

    def integer_at(
        self,
        section: Mapping[Any, Any],
        key: str,
        path: str,
        *,
        minimum: int,
        maximum: int | None = None,
        required: bool = False,
    ) -> int | None:
        """`integer` of `section[key]`; None when it is absent (`is required` if `required`)."""
        value = self._value_at(section, key, path, required=required)
        if value is None:
            return None
        return self.integer(value, self.join_key(path, key), minimum=minimum, maximum=maximum)

    def boolean(self, value: object, path: str) -> bool | None:
        """true or false, as a JSON boolean (not "yes", not 1)."""
        if isinstance(value, bool):
            return value
        self.add(path, f"must be true or false, not {describe_type(value)}")
        return None

    def text(
        self,
        value: object,
        path: str,
        *,
        max_length: int,
        pattern: re.Pattern[str] | None = None,
        mismatch: str = "",
        allow_empty: bool = False,
    ) -> str | None:
        """Text of at most `max_length` characters, matching `pattern` (else `mismatch` is
        filed); empty text only with `allow_empty`."""
        if not isinstance(value, str):
            self.add(path, f"must be text, not {describe_type(value)}")
            return None
        if not value and not allow_empty:
            self.add(path, "must not be empty")
            return None
        if len(value) > max_length:
            self.add(path, f"must be at most {max_length} characters")
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.add(path, mismatch or "is not in the expected form")
            return None
        return value

    def choice(self, value: object, path: str, choices: Sequence[str]) -> str | None:
        """One of `choices`, as text."""
        if isinstance(value, str) and value in choices:
            return value
        self.add(path, choice_message(value, choices))
        return None

    # --- helpers -------------------------------------------------------------------------------

    def _value_at(
        self, section: Mapping[Any, Any], key: str, path: str, *, required: bool
    ) -> object | None:
        value = section.get(key)
        if value is None and required:
            self.add(self.join_key(path, key), REQUIRED)
        return value

    def _finite(self, value: object, path: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, f"must be a number, not {describe_type(value)}")
            return None
        try:
            number = float(value)
        except OverflowError:
            self.add(path, "is too large")
            return None
        if not math.isfinite(number):
            self.add(path, "must be a finite number")
            return None
        return number


def _in_range(
    number: float, minimum: float | None, above: float | None, maximum: float | None
) -> bool:
    if minimum is not None and number < minimum:
        return False
    if above is not None and number <= above:
        return False
    return maximum is None or number <= maximum
