"""Request body parsers that refuse what would be stored wrongly or crash later."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from worldservice.api.errors import RequestTooLarge
from worldservice.limits import MAX_JSON_INTEGER

MAX_JSON_DEPTH = 64
MAX_INTEGER_DIGITS = len(str(MAX_JSON_INTEGER))
_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def read_limited(stream: IO[bytes] | None) -> bytes:
    """The whole body, refusing more than the configured limit even without Content-Length."""
    if stream is None:
        return b""
    limit = int(settings.WORLDSERVICE["MAX_BODY_BYTES"])
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise RequestTooLarge(f"The request body is larger than {limit} bytes.")
    return data


def _check_text(value: str, where: str) -> None:
    if "\x00" in value:
        raise ParseError(f"{where} contains a NUL character, which cannot be stored.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParseError(f"{where} contains an unpaired surrogate; send valid UTF-8.") from exc


def check_json_value(value: Any, depth: int = 0) -> None:
    """Refuse JSON nested too deep, or holding strings a database cannot store."""
    if depth > MAX_JSON_DEPTH:
        raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, str):
        _check_text(value, "A string")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_text(key, "A key")
            check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_json_value(item, depth + 1)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ParseError(f"The key {key!r} appears twice in one object.")
        result[key] = value
    return result


def _bounded_int(text: str) -> int:
    """A JSON integer, refused when it is larger than any the service stores (64 bits).

    Counting digits first keeps a thousand-digit literal from being converted at all (Python
    refuses more than 4,300 digits with a ValueError, and below that the work is quadratic).
    """
    digits = len(text) - (text[0] == "-")
    if digits > MAX_INTEGER_DIGITS or abs(value := int(text)) > MAX_JSON_INTEGER:
        raise ParseError(
            f"A JSON integer is too large (at most {MAX_JSON_INTEGER} in magnitude).",
            code="number_too_large",
        )
    return value


def parse_json_bytes(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError("The body is not valid UTF-8.") from exc
    if not text.strip():
        return {}
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_NON_FINITE.__getitem__,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"Malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from exc
    except RecursionError as exc:
        raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from exc
    check_json_value(value)
    return value


class StrictJSONParser(BaseParser):
    """JSON in UTF-8. `NaN`/`Infinity` tokens are read (metrics may carry them, as missing)."""

    media_type = "application/json"

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        return parse_json_bytes(read_limited(stream))


class PolicyText(str):
    """A raw YAML request body, kept verbatim (its exact bytes are what gets checksummed)."""


class YAMLTextParser(BaseParser):
    """`application/yaml` / `text/yaml` bodies, passed on as text; the policy loader parses."""

    media_type = "application/yaml"

    def parse(  # type: ignore[override]  # DRF passes any parsed value on as request.data
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> PolicyText:
        try:
            text = read_limited(stream).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("The body is not valid UTF-8.") from exc
        _check_text(text, "The body")
        return PolicyText(text)


class TextYAMLParser(YAMLTextParser):
    media_type = "text/yaml"
