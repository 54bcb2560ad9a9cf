"""Values derived from objects that are never changed once made, derived once per object.

The hot reads answer from values this process holds as tracked copies (`worlds.hot_reads`):
the same object, request after request, until Redis reports a change and a new object takes
its place. What is derived from such an object (decide's JSON text, an activation entry's
envelope) is the same every time, so it is kept beside the object it came from, found by
identity. The object is kept alive with it, so its `id` cannot be given to another object
while the entry exists. Objects that are not held copies work too: each is a new entry, and the
oldest entries go when the map is full.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

Derived = TypeVar("Derived")


class DerivedOnce(Generic[Derived]):
    """A bounded map from an object (by identity) and a tag to what was derived from it."""

    def __init__(self, limit: int = 256) -> None:
        self._entries: dict[tuple[int, Hashable], tuple[Any, Derived]] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, source: Any, derive: Callable[[], Derived], tag: Hashable = None) -> Derived:
        """What `derive()` gives for `source` (with `tag`), derived at most once while kept.

        `source` must never be changed; `tag` names anything else `derive` depends on.
        """
        key = (id(source), tag)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is source:
            return entry[1]
        derived = derive()
        with self._lock:
            if len(self._entries) >= self._limit:
                self._entries.clear()  # crude, but bounded: held copies come back at once
            self._entries[key] = (source, derived)
        return derived
