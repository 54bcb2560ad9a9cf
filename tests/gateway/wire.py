"""The existing Gateway's request bodies, kept as JSON files and sent byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gateway"


def raw_body(name: str) -> bytes:
    """The fixture's exact bytes (what the client puts on the wire)."""
    return (FIXTURES / name).read_bytes()


def body(name: str) -> dict[str, Any]:
    """The fixture as a dict, for variations of it."""
    loaded: dict[str, Any] = json.loads(raw_body(name))
    return loaded


def post_json(client: Any, url: str, payload: bytes | dict[str, Any]) -> Any:
    """POST `payload` as `application/json`; bytes are sent as they are."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(url, data=data, content_type="application/json")
