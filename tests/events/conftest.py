from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.events.helpers import EventStream, isolated_stream


@pytest.fixture
def event_stream(settings: Any) -> Iterator[EventStream]:
    """The relay publishes to a private stream, in a Redis database no test flushes."""
    yield from isolated_stream(settings)
