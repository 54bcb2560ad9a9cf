"""How the path of a value inside a document is written in error messages.

Items of a list are `[i]`, counted from 0, in either style. Keys differ by audience: the policy
language quotes a key that is not a plain name (`preset_overrides["sharpe.min"]`) so a path can be
followed back into the YAML text, while request bodies join every key with a dot
(`world_alloc_before.W 1`), as their clients read the paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .wording import printable, safe_text

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

KeyJoiner = Callable[[str, object], str]
"""`(path, key) -> path of key inside the mapping at path`."""


def quoted_key(path: str, key: object) -> str:
    """`path.key` for a plain name, else `path["key"]` (the policy language's style)."""
    text = key if isinstance(key, str) else safe_text(key)
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f'{path}["{printable(text)}"]'


def dotted_key(path: str, key: object) -> str:
    """`path.key` for any key (the style of request bodies)."""
    text = key if isinstance(key, str) else safe_text(key)
    return f"{path}.{text}" if path else text


def join_index(path: str, index: int) -> str:
    """The path of item `index` (from 0) inside the list at `path`."""
    return f"{path}[{index}]"
