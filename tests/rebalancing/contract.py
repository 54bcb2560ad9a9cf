"""The rebalancing contract fixtures (tests/fixtures/rebalancing/v1 and v2), for REST and events.

Each version directory holds requests, the responses they get and the `rebalancing_planned`
payloads they record, per world. A payload is stored without the outbox's per-world envelope
(`seq`, `idempotency_key`), which depends on what the world recorded before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.factories import override_worldservice

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rebalancing"
VERSIONS = (1, 2)
WORLDS = ("w1", "w2")
ENVELOPE_KEYS = ("seq", "idempotency_key")


def fixture(version: int, name: str) -> Any:
    """`tests/fixtures/rebalancing/v<version>/<name>.json`, parsed."""
    return json.loads((FIXTURES / f"v{version}" / f"{name}.json").read_text())


def serving(version: int) -> Any:
    """Settings under which the service answers in `version` (v2 needs compat_rebalance_v2)."""
    return override_worldservice(COMPAT_REBALANCE_V2=version >= 2)


def without_envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in ENVELOPE_KEYS}
