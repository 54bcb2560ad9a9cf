"""The rules of an activation override (`PUT /worlds/{id}/activation`), in one place.

Every caller of `override_activation` (the API, the admin console, scripts) is held to them by the
service, which checks them first; the API's serializer checks only the body's shape (an object,
its keys, the required ones present) and describes these rules for OpenAPI from the constants
here. The rules about the world (deleted, suspended, `allow_live`) and the entry (If-Match, room
for one more) need the locked world and the store, and stay in the service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from activation.entries import EFFECTIVE_MODES, SIDES
from fieldreaders import (
    RUN_ID_PATTERN,
    STRATEGY_ID_PATTERN,
    FieldErrors,
    FieldReader,
    dotted_key,
)
from worldservice.api.errors import InvalidInput

MAX_TTL_SECONDS: Final = 366 * 24 * 3600
MAX_ID_LENGTH: Final = 128
MAX_REASON_LENGTH: Final = 1000
REQUIRED_FIELDS: Final = ("strategy_id", "side", "active")
NULLABLE_FIELDS: Final = ("effective_mode", "run_id", "ttl_seconds")
"""Fields whose `null` means "not set" (every other field must hold a value when given)."""


def check_override(fields: Mapping[str, object]) -> None:
    """Raise `InvalidInput` (400, `errors` by field) unless every field keeps to its rule.

    `fields` maps the override's field names to their values; an optional field may be absent.
    """
    read = FieldReader(FieldErrors(root="body"), join_key=dotted_key)
    read.require(fields, "", REQUIRED_FIELDS)
    for name, rule in _rules(read).items():
        value = fields.get(name)
        if value is not None or (name in fields and name not in NULLABLE_FIELDS):
            rule(value, name)
    if read.errors:
        raise InvalidInput("The activation override is not valid.", errors=read.errors.errors)


def _rules(read: FieldReader) -> dict[str, Callable[[object, str], object]]:
    return {
        "strategy_id": lambda value, path: read.text(
            value,
            path,
            max_length=MAX_ID_LENGTH,
            pattern=STRATEGY_ID_PATTERN,
            mismatch="must not contain whitespace or '|'",
        ),
        "side": lambda value, path: read.choice(value, path, SIDES),
        "active": read.boolean,
        "weight": lambda value, path: read.number(value, path, minimum=0.0, maximum=1.0),
        "freeze": read.boolean,
        "drain": read.boolean,
        "effective_mode": lambda value, path: read.choice(value, path, EFFECTIVE_MODES),
        "run_id": lambda value, path: read.text(
            value,
            path,
            max_length=MAX_ID_LENGTH,
            pattern=RUN_ID_PATTERN,
            mismatch="may only contain letters, digits and _ . : -",
        ),
        "ttl_seconds": lambda value, path: read.integer(
            value, path, minimum=1, maximum=MAX_TTL_SECONDS, whole_floats=False
        ),
        "reason": lambda value, path: read.text(
            value, path, max_length=MAX_REASON_LENGTH, allow_empty=True
        ),
    }
