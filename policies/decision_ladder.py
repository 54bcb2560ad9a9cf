"""The decide mode ladder: a pure function from a world's inputs to a decision.

The ladder itself: docs/decisions.md#the-ladder (and docs/contract.md#decide).

Checks run in a fixed order and stop at the first that decides; `reason` lists the codes of the
checks made, joined with `&`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from worldservice.canonical import content_hash
from worldservice.clock import rfc3339

DEFAULT_TTL_SECONDS = 300
HOLD_TTL_SECONDS = 120
INACTIVE_STATES = frozenset({"SUSPENDED", "DELETED"})


@dataclass(frozen=True, slots=True)
class HistoryFacts:
    """The history entry decide chose: the newest whose as_of is not after the asked time."""

    as_of: dt.datetime
    dataset_fingerprint: str | None = None
    coverage_bounds: Any = None
    conformance_flags: Any = None
    conformance_warnings: Any = None
    rows: int | None = None
    artifact: Any = None
    updated_at: dt.datetime | None = None

    @property
    def has_metrics(self) -> bool:
        return any(
            value is not None
            for value in (
                self.coverage_bounds,
                self.conformance_flags,
                self.conformance_warnings,
                self.rows,
            )
        )


@dataclass(frozen=True, slots=True)
class DecideInputs:
    world_id: str
    state: str
    circuit_breaker: bool
    allow_live: bool
    policy_version: int
    max_lag_seconds: int | None
    bindings: tuple[str, ...]
    decisions: tuple[str, ...]
    history: HistoryFacts | None
    requested_as_of: dt.datetime | None
    now: dt.datetime
    previous_mode: str | None = None
    previous_fingerprint: str | None = None


@dataclass(slots=True)
class Decision:
    effective_mode: str
    reasons: list[str] = field(default_factory=list)
    ttl_seconds: int = DEFAULT_TTL_SECONDS
    stale_at: dt.datetime | None = None  # when time alone would change this decision


def run_ladder(inputs: DecideInputs) -> Decision:
    reasons: list[str] = []
    if inputs.state in INACTIVE_STATES:
        return Decision("compute-only", ["world_suspended"])
    if inputs.circuit_breaker:
        return Decision("compute-only", ["circuit_breaker"])
    if not inputs.bindings:
        return Decision("validate", ["no_bindings"])
    reasons.append("bindings_present")
    if not inputs.decisions:
        return Decision("validate", [*reasons, "no_active_strategies"])
    reasons.append("decisions_present")
    stale_at = None
    if inputs.max_lag_seconds is not None:
        moment = inputs.requested_as_of or inputs.now
        history = inputs.history
        lag = dt.timedelta(seconds=inputs.max_lag_seconds)
        if history is None or moment - history.as_of > lag:
            return Decision("compute-only", [*reasons, "data_currency_stale"])
        reasons.append("data_currency_ok")
        if inputs.requested_as_of is None:
            stale_at = history.as_of + lag
    fingerprint = inputs.history.dataset_fingerprint if inputs.history else None
    has_metrics = bool(inputs.history and inputs.history.has_metrics)
    if inputs.allow_live and fingerprint and has_metrics:
        return Decision(
            "live",
            [*reasons, "allow_live", "dataset_fingerprint_ok", "metrics_ok"],
            stale_at=stale_at,
        )
    if (
        inputs.allow_live
        and inputs.previous_mode == "live"
        and fingerprint
        and fingerprint == inputs.previous_fingerprint
    ):
        return Decision(
            "live",
            [*reasons, "allow_live", "hysteresis_hold"],
            ttl_seconds=HOLD_TTL_SECONDS,
            stale_at=stale_at,
        )
    if not inputs.allow_live:
        reasons.append("allow_live_disabled")
    if not fingerprint:
        reasons.append("dataset_fingerprint_missing")
    if not has_metrics:
        reasons.append("required_metrics_missing")
    return Decision("compute-only", reasons, stale_at=stale_at)


def envelope(inputs: DecideInputs, decision: Decision) -> dict[str, Any]:
    """The DecisionEnvelope; its etag is derived from content, never from the clock."""
    history = inputs.history
    as_of = history.as_of if history else (inputs.requested_as_of or inputs.now)
    body: dict[str, Any] = {
        "world_id": inputs.world_id,
        "policy_version": inputs.policy_version,
        "effective_mode": decision.effective_mode,
        "reason": "&".join(decision.reasons),
        "as_of": rfc3339(as_of, seconds=True),
        "ttl": f"{decision.ttl_seconds}s",
        "dataset_fingerprint": history.dataset_fingerprint if history else None,
        "coverage_bounds": history.coverage_bounds if history else None,
        "conformance_flags": history.conformance_flags if history else None,
        "conformance_warnings": history.conformance_warnings if history else None,
        "history_updated_at": (
            rfc3339(history.updated_at, seconds=True) if history and history.updated_at else None
        ),
        "rows": history.rows if history else None,
        "artifact": history.artifact if history else None,
    }
    # Every input takes part, so any change to one gives a new etag; `as_of` is left out when
    # it is merely "now" (no history chosen), so the clock alone never changes it.
    identity = {
        **body,
        "as_of": body["as_of"] if history or inputs.requested_as_of else None,
        "inputs": [
            inputs.state,
            inputs.circuit_breaker,
            inputs.allow_live,
            inputs.max_lag_seconds,
            inputs.bindings,
            inputs.decisions,
        ],
    }
    digest = content_hash(identity).removeprefix("sha256:")[:24]
    body["etag"] = f"w:{inputs.world_id}:v{inputs.policy_version}:{digest}"
    return body


SAFE_TTL_SECONDS = 5
SAFE_REASON = "database_unavailable"


def safe_envelope(world_id: str, as_of: dt.datetime) -> dict[str, Any]:
    """The answer when decide's inputs cannot be read: `compute-only`, never `live`.

    Its short ttl keeps clients (the Gateway caches envelopes for their ttl) from holding on to
    it once the database is back; its etag is fixed, so it never matches a real decision's.
    """
    return {
        "world_id": world_id,
        "policy_version": 0,
        "effective_mode": "compute-only",
        "reason": SAFE_REASON,
        "as_of": rfc3339(as_of, seconds=True),
        "ttl": f"{SAFE_TTL_SECONDS}s",
        "dataset_fingerprint": None,
        "coverage_bounds": None,
        "conformance_flags": None,
        "conformance_warnings": None,
        "history_updated_at": None,
        "rows": None,
        "artifact": None,
        "etag": f"w:{world_id}:v0:{SAFE_REASON}",
    }
