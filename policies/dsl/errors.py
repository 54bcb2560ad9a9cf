"""The one error type of the policy language, and how document paths are written.

A path names the place in the document an error is about: mapping keys joined by dots, list items
as `[i]` counted from 0 (`selection.gates.and[2]`). A key that is not a plain name is written in
brackets and quotes (`preset_overrides["sharpe.min"]`). Problems with the text itself (YAML
syntax, size, nesting, aliases) are reported under the path `yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

YAML_PATH = "yaml"
"""The path of errors about the document text rather than one value in it."""

ROOT_PATH = "policy"
"""The path of errors about the document as a whole (for example, not a mapping)."""

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_SHOWN = 80


class PolicyValidationError(ValueError):
    """A policy document that cannot be loaded or does not validate.

    `errors` maps document paths to the messages about them, in the order they were found; it is
    the `errors` member of the API's 400 body.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {
            path: list(messages) for path, messages in errors.items() if messages
        }
        if not self.errors:
            self.errors = {ROOT_PATH: ["the policy is not valid"]}
        super().__init__(self.summary())

    @classmethod
    def single(cls, path: str, message: str) -> PolicyValidationError:
        """An error with one message at one path."""
        return cls({path: [message]})

    def summary(self) -> str:
        """All errors on one line: `path: message; path: message`."""
        return "; ".join(
            f"{path}: {message}" for path, messages in self.errors.items() for message in messages
        )

    def __reduce__(self) -> tuple[type[PolicyValidationError], tuple[dict[str, list[str]]]]:
        # Exceptions pickle through `args`, which here is the summary, not the mapping.
        return (type(self), (self.errors,))


class ErrorCollector:
    """Collects messages by path so that one pass reports every problem it can find."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        messages = self.errors.setdefault(path or ROOT_PATH, [])
        if message not in messages:
            messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise PolicyValidationError(self.errors)


def printable(text: str, limit: int = _MAX_SHOWN) -> str:
    """`text` with control and unpaired surrogate characters escaped, shortened to `limit`."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def show(value: object) -> str:
    """A value as it is quoted in messages: `'selction'`, `1.5`, `a list`."""
    if isinstance(value, str):
        return "'" + printable(value) + "'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return printable(safe_text(value))
    return describe_type(value)


def safe_text(value: object) -> str:
    """`str(value)`, or a description where that fails (an integer of thousands of digits)."""
    try:
        return str(value)
    except ValueError:
        return "a very long number" if isinstance(value, int) else describe_type(value)


def describe_type(value: object) -> str:
    """How the kind of a value is named to a person: `a number`, `a list`, `text`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    return "a value of type " + type(value).__name__


def join_key(path: str, key: object) -> str:
    """The path of `key` inside the mapping at `path`."""
    text = key if isinstance(key, str) else safe_text(key)
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{printable(text)}"]'


def join_index(path: str, index: int) -> str:
    """The path of item `index` (from 0) inside the list at `path`."""
    return f"{path}[{index}]"
