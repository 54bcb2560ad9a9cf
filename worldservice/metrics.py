"""Prometheus metrics (docs/contract.md#operations). No per-run labels: bounded cardinality."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

LATENCY_BUCKETS_MS = (0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)

world_decide_latency_ms = Histogram(
    "world_decide_latency_ms",
    "Time to answer GET /decide, in milliseconds.",
    buckets=LATENCY_BUCKETS_MS,
)
world_apply_duration_ms = Histogram(
    "world_apply_duration_ms",
    "Time from apply request to its final stage, in milliseconds.",
    buckets=LATENCY_BUCKETS_MS,
)
world_eval_duration_ms = Histogram(
    "world_eval_duration_ms",
    "Time one evaluation takes, in milliseconds.",
    buckets=LATENCY_BUCKETS_MS,
)
world_apply_run_total = Counter(
    "world_apply_run_total", "Apply runs that ended, by final status.", ["status"]
)
world_apply_failure_total = Counter(
    "world_apply_failure_total", "Apply failures, by the stage that failed.", ["stage"]
)
SKEW_BUCKETS_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)

# The seed's skew: from an activation event's time until a consumer (Gateway, SDK) processed it,
# as consumers acknowledge it (POST /worlds/{id}/activation/ack). Not labelled by world: no
# metric here is, so cardinality stays bounded; the per-world view is GET /worlds/{id}/consumers.
activation_skew_seconds = Histogram(
    "activation_skew_seconds",
    "Seconds from an activation event's time until a consumer processed it (acknowledged).",
    buckets=SKEW_BUCKETS_SECONDS,
)
activation_stale_consumers = Gauge(
    "activation_stale_consumers",
    "Consumers still behind an activation version that has been out for over 60 s.",
    multiprocess_mode="max",
)
event_relay_lag_seconds = Gauge(
    "event_relay_lag_seconds",
    "Seconds between recording an event and the relay publishing it (last batch, longest).",
)
world_decide_fail_total = Counter(
    "world_decide_fail_total",
    "Decide requests that could not compute a decision and answered the safe default.",
)
world_apply_timeout_total = Counter(
    "world_apply_timeout_total",
    "Apply runs the reaper rolled back because their lease lapsed (the worker stopped).",
)
promotion_fail_total = Counter(
    "promotion_fail_total", "Apply runs that failed while promoting (activating) strategies."
)
demotion_fail_total = Counter(
    "demotion_fail_total", "Apply runs that failed while demoting (deactivating) strategies."
)
clock_offset_seconds = Gauge(
    "clock_offset_seconds",
    "This host's clock offset against a reference (remote minus local), at the last scrape.",
    ["reference"],
    multiprocess_mode="mostrecent",
)
registry_write_fail_total = Counter(
    "registry_write_fail_total", "Registry writes that failed with a server-side error."
)
audit_backlog_depth = Gauge(
    "audit_backlog_depth",
    "Recorded events not yet relayed to the stream.",
    multiprocess_mode="max",
)


def render_metrics() -> tuple[bytes, str]:
    """The exposition text; merges worker processes when PROMETHEUS_MULTIPROC_DIR is set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
