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
activation_skew_seconds = Gauge(
    "activation_skew_seconds",
    "Seconds between an activation change and the relay publishing its event (last seen).",
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
