"""Idempotency by run_id: a repeat of the same request is a replay, anything else a conflict."""

from __future__ import annotations

from typing import Protocol, TypeVar

from worldservice.api.errors import Conflict


class RecordedRun(Protocol):
    run_id: str
    fingerprint: str


R = TypeVar("R", bound=RecordedRun)


def replay_or_conflict(run: R, fingerprint: str, what: str) -> R:
    """`run` when `fingerprint` is the one it was recorded with, else 409 `run_id_conflict`."""
    if run.fingerprint != fingerprint:
        raise Conflict(
            f"run_id {run.run_id!r} was used for a different {what}.", code="run_id_conflict"
        )
    return run
