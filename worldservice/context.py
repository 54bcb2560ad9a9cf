"""Request-scoped context that services read without it being threaded through every call."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

CORRELATION_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return secrets.token_hex(16)


def valid_correlation_id(value: str | None) -> str:
    """The value when it is a well-formed correlation id, else a freshly generated one."""
    if value and CORRELATION_ID_PATTERN.match(value):
        return value
    return new_correlation_id()


def correlation_id_in_scope() -> str | None:
    """The correlation id of the work in progress, or None outside any request or task."""
    return _correlation_id.get()


def current_correlation_id() -> str:
    """The correlation id of the work in progress; generated once if none was set."""
    value = _correlation_id.get()
    if value is None:
        value = new_correlation_id()
        _correlation_id.set(value)
    return value


def adopt_correlation_id(value: str | None) -> Token[str | None]:
    """Make `value` current until `release_correlation_id(token)` (None: no id yet).

    For the spans signals delimit (a Celery task between its prerun and postrun), where a
    `with correlation_scope(...)` block cannot reach.
    """
    return _correlation_id.set(valid_correlation_id(value) if value else None)


def release_correlation_id(token: Token[str | None]) -> None:
    _correlation_id.reset(token)


@contextmanager
def correlation_scope(value: str | None) -> Iterator[str]:
    """Run a block (a request, a task) under one correlation id."""
    token = _correlation_id.set(valid_correlation_id(value))
    try:
        yield current_correlation_id()
    finally:
        _correlation_id.reset(token)
