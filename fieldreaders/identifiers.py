"""The identifiers every part of the service agrees on (docs/api.md, "Validation", ids)."""

from __future__ import annotations

import re
from typing import Final

WORLD_ID_PATTERN: Final = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
"""A world id: 1-64 characters, lower-case letters, digits, '_', '.', '-', starting with a letter
or digit."""

STRATEGY_ID_PATTERN: Final = re.compile(r"^[^\s|]{1,128}$")
"""A strategy id: 1-128 characters without whitespace or '|' (the '|' joins it to a side)."""

RUN_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
"""A run id: 1-128 characters of A-Z a-z 0-9 _ . : -."""
