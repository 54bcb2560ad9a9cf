"""Every bound on what one request may carry, in one place (docs/api.md, "Limits").

A request's cost must not grow without bound with its input, so each list, map and free-form
value a route accepts has a limit here, and it is checked before any work that grows with it
(the serializers' bounded fields check the length before validating a single item). The body
size (`WORLDSERVICE_MAX_BODY_BYTES`) and the number of strategies (`WORLDSERVICE_MAX_STRATEGIES`)
come from the environment; the other bounds are fixed far above what a real client sends. The
policy language's own bounds (document size, nesting, aliases) are in `policies/dsl/limits.py`.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings

MAX_STRATEGIES: int = int(settings.WORLDSERVICE["MAX_STRATEGIES"])
"""Strategies in one list or map of a request (bindings, decisions, evaluate, apply), and the
most a world may hold: bound strategies, history entries."""

MAX_ACTIVATION_ENTRIES: int = 2 * MAX_STRATEGIES
"""Entries in one world's activation set (a strategy has at most a long and a short entry)."""

MAX_METRICS_PER_STRATEGY = 256
"""Metrics of one strategy in an evaluate body."""

MAX_METRIC_NAME_CHARS = 128
"""Longest metric name (the policy language's own bound)."""

MAX_SERIES_POINTS = 100_000
"""Points in one series (evaluate's `series`, rebalancing's realized returns)."""

MAX_CORRELATIONS = 50_000
"""Pairs in evaluate's `correlations`."""

MAX_POSITIONS = 20_000
"""Positions in one rebalancing or allocations request."""

MAX_WORLDS_PER_REQUEST = 1_000
"""Worlds named in one rebalancing or allocations request (each map keyed by world)."""

MAX_SYMBOLS = 20_000
"""Symbols in one map keyed by symbol (lot sizes, overlay prices)."""

MAX_FREEFORM_JSON_BYTES = 16 * 1024
"""A free-form JSON value (history's `coverage_bounds`, `conformance_*` and `artifact`, apply's
`gating_policy`, rebalancing's `rebalance_intent.meta`), measured as compact JSON. History values
are copied into every decide answer, so they stay small."""

MAX_JSON_INTEGER = 2**63 - 1
"""Largest magnitude of a JSON integer in any body (a signed 64-bit integer). Python refuses
to read integers of more than 4,300 digits at all; the parser refuses long before."""

MAX_VERSION = 2**31 - 1
"""Largest policy version number or event sequence accepted in a body or query."""

EARLIEST_TIME = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST_TIME = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)
"""Times on the wire (`as_of`, `at`, `since`, `until`, `valid_from`) lie in
[EARLIEST_TIME, LATEST_TIME): arithmetic on them can then never leave Python's datetime range."""
