"""The one wording of field errors: how values, kinds and ranges are named in a message.

Messages are lower-case phrases that follow the path they are filed under (`total_equity: must be
a number, not text`), with no full stop. docs/policy-language.md ("Error messages") and
docs/rebalancing.md ("Validation rules") list them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

_MAX_SHOWN = 80


def printable(text: str, limit: int = _MAX_SHOWN) -> str:
    """`text` with control and unpaired surrogate characters escaped, shortened to `limit`."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def safe_text(value: object) -> str:
    """`str(value)`, or a description where that fails (an integer of thousands of digits)."""
    try:
        return str(value)
    except ValueError:
        return "a very long number" if isinstance(value, int) else describe_type(value)


def show(value: object) -> str:
    """A value as it is quoted in messages: `'selction'`, `1.5`, `a list`."""
    if isinstance(value, str):
        return "'" + printable(value) + "'"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return printable(safe_text(value))
    return describe_type(value)


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


def format_number(value: float) -> str:
    """Render a float the way a person would write it: `0.6`, `1`, `1e-05`."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def range_message(minimum: float | None, above: float | None, maximum: float | None) -> str:
    """`must be between 0 and 1`, `must be more than 0`, `must be at most 5`, …"""
    if above is not None and maximum is not None:
        return f"must be more than {format_number(above)} and at most {format_number(maximum)}"
    if minimum is not None and maximum is not None:
        return f"must be between {format_number(minimum)} and {format_number(maximum)}"
    if above is not None:
        return f"must be more than {format_number(above)}"
    if minimum is not None:
        return f"must be at least {format_number(minimum)}"
    return f"must be at most {format_number(maximum or 0.0)}"


def choice_message(value: object, choices: Iterable[str]) -> str:
    """`must be fail, warn or ignore, not 'x'`."""
    options = list(choices)
    listed = ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else options[0]
    return f"must be {listed}, not {show(value)}"


def unknown_choice(what: str, value: object, choices: Iterable[str]) -> str:
    """`unknown key 'selction'; did you mean 'selection'?`, else the list of what is known."""
    options = list(choices)
    if isinstance(value, str):
        value = value[:100]
    message = f"unknown {what} {show(value)}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
        if close:
            return f"{message}; did you mean '{close[0]}'?"
    return f"{message}; expected one of: {', '.join(options)}"


def too_many_message(limit: int, count: int, noun: str) -> str:
    """`at most 200 overrides (this has 201)`: a list or mapping over its bound."""
    return f"at most {limit} {noun} (this has {count})"
