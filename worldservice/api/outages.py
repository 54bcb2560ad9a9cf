"""The one mapping from "a dependency is down" to the 503 answer (`dependency_unavailable`).

A dependency that is down or does not answer in time (see docs/operations.md#timeouts) shows up
as one of a few exception types. Services that meet one raise `unavailable(...)`; anything that
escapes as a raw exception is classified by `outage_of` in the DRF exception handler and in
`handler500` (plain Django views and middleware), so every route answers the same 503 JSON.
"""

from __future__ import annotations

import redis
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError

from worldservice.api.errors import DependencyUnavailable

REDIS = "Redis"
DATABASE = "the database"
BROKER = "the task broker"
RETRY_AFTER_SECONDS = 5


def outage_of(exc: BaseException) -> str | None:
    """The dependency an exception says is down, if it is an outage rather than a bug."""
    if isinstance(exc, DependencyUnavailable):
        return None  # already a ServiceError with its own sentence
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return REDIS
    if isinstance(exc, OperationalError | InterfaceError):
        return DATABASE
    if isinstance(exc, BrokerError):
        return BROKER
    return None


def unavailable(dependency: str, what: str = "") -> DependencyUnavailable:
    """The refusal for a request that needs `dependency` while it is down (503, `Retry-After`).

    `what` names the part that needs it ("the activation store") for a clearer sentence.
    """
    subject = f"{what} ({dependency})" if what else dependency
    return DependencyUnavailable(
        f"{subject[:1].upper()}{subject[1:]} is unavailable; try again shortly.",
        code="dependency_unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
