"""The decide mode ladder: a pure function from a world's inputs to a decision.

Checks run in a fixed order and stop at the first that decides; `reason` lists the codes of the
checks made, joined with `&`. docs/decisions.md, "The ladder", numbers the checks; `run_ladder`
reads as that list: checks 1–4 (`_world_and_setup`), 5 (`_data_currency`), 6–8
(`_execution_mode`). `envelope` renders a decision with its content-derived etag (`_etag`).
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
    """The checks of docs/decisions.md, "The ladder", in order; the first that decides wins."""
    stopped = _world_and_setup(inputs)  # checks 1–4
    if stopped is not None:
        return stopped
    reasons = ["bindings_present", "decisions_present"]
    currency, stale_at = _data_currency(inputs)  # check 5
    if currency == "data_currency_stale":
        return Decision("compute-only", [*reasons, currency])
    if currency is not None:
        reasons.append(currency)
    return _execution_mode(inputs, reasons, stale_at)  # checks 6–8


def _world_and_setup(inputs: DecideInputs) -> Decision | None:
    """Checks 1–4: a world that is off, or has nothing bound or active, is decided at once."""
    if inputs.state in INACTIVE_STATES:
        return Decision("compute-only", ["world_suspended"])
    if inputs.circuit_breaker:
        return Decision("compute-only", ["circuit_breaker"])
    if not inputs.bindings:
        return Decision("validate", ["no_bindings"])
    if not inputs.decisions:
        return Decision("validate", ["bindings_present", "no_active_strategies"])
    return None


def _data_currency(inputs: DecideInputs) -> tuple[str | None, dt.datetime | None]:
    """Check 5, only when the policy sets `max_lag`: its code, and when the history goes stale.

    The staleness moment is given only for a decision about "now" (no requested `as_of`): it
    bounds how long the decision may be cached.
    """
    if inputs.max_lag_seconds is None:
        return None, None
    moment = inputs.requested_as_of or inputs.now
    history = inputs.history
    lag = dt.timedelta(seconds=inputs.max_lag_seconds)
    if history is None or moment - history.as_of > lag:
        return "data_currency_stale", None
    stale_at = history.as_of + lag if inputs.requested_as_of is None else None
    return "data_currency_ok", stale_at


def _execution_mode(
    inputs: DecideInputs, reasons: list[str], stale_at: dt.datetime | None
) -> Decision:
    """Checks 6–8: `live` on fresh evidence, `live` held on one fingerprint, or compute-only."""
    history = inputs.history
    fingerprint = history.dataset_fingerprint if history else None
    has_metrics = bool(history and history.has_metrics)
    if inputs.allow_live and fingerprint and has_metrics:
        return Decision(
            "live",
            [*reasons, "allow_live", "dataset_fingerprint_ok", "metrics_ok"],
            stale_at=stale_at,
        )
    if _live_holds(inputs, fingerprint):
        return Decision(
            "live",
            [*reasons, "allow_live", "hysteresis_hold"],
            ttl_seconds=HOLD_TTL_SECONDS,
            stale_at=stale_at,
        )
    missing = _missing_for_live(inputs.allow_live, fingerprint, has_metrics)
    return Decision("compute-only", [*reasons, *missing], stale_at=stale_at)


def _live_holds(inputs: DecideInputs, fingerprint: str | None) -> bool:
    """Check 7: the previous decision was `live` on this same dataset fingerprint."""
    return bool(
        inputs.allow_live
        and inputs.previous_mode == "live"
        and fingerprint
        and fingerprint == inputs.previous_fingerprint
    )


def _missing_for_live(allow_live: bool, fingerprint: str | None, has_metrics: bool) -> list[str]:
    """Check 8: the code of each condition for `live` that is not met."""
    missing: list[str] = []
    if not allow_live:
        missing.append("allow_live_disabled")
    if not fingerprint:
        missing.append("dataset_fingerprint_missing")
    if not has_metrics:
        missing.append("required_metrics_missing")
    return missing


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
        **_history_fields(history),
    }
    body["etag"] = _etag(inputs, body)
    return body


def _history_fields(history: HistoryFacts | None) -> dict[str, Any]:
    """The envelope's fields from the chosen history entry, all null when none was chosen."""
    if history is None:
        return dict.fromkeys(_HISTORY_FIELDS)
    updated_at = history.updated_at
    return {
        "dataset_fingerprint": history.dataset_fingerprint,
        "coverage_bounds": history.coverage_bounds,
        "conformance_flags": history.conformance_flags,
        "conformance_warnings": history.conformance_warnings,
        "history_updated_at": rfc3339(updated_at, seconds=True) if updated_at else None,
        "rows": history.rows,
        "artifact": history.artifact,
    }


_HISTORY_FIELDS = (
    "dataset_fingerprint",
    "coverage_bounds",
    "conformance_flags",
    "conformance_warnings",
    "history_updated_at",
    "rows",
    "artifact",
)


def _etag(inputs: DecideInputs, body: dict[str, Any]) -> str:
    """`w:{world}:v{version}:{digest}` over the envelope and every input of the decision."""
    # Every input takes part, so any change to one gives a new etag; `as_of` is left out when
    # it is merely "now" (no history chosen), so the clock alone never changes it.
    identity = {
        **body,
        "as_of": body["as_of"] if inputs.history or inputs.requested_as_of else None,
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
    return f"w:{inputs.world_id}:v{inputs.policy_version}:{digest}"


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
