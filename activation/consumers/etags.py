"""Reading the activation version out of an etag a consumer acknowledges.

Entry etags are `act:{world}:{strategy}:{side}:{version}` and the set's is
`act:{world}:set:{version}` (docs/activation.md); strategy ids may hold colons, so the version
is the last segment and the side the one before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from activation.entries import SIDES
from worldservice.api.identifiers import STRATEGY_ID_REGEX

_STRATEGY_ID = re.compile(STRATEGY_ID_REGEX)
_VERSION = re.compile(r"[0-9]{1,19}")
MAX_VERSION = 2**63 - 1


@dataclass(frozen=True, slots=True)
class ParsedEtag:
    version: int
    whole_set: bool


def parse_activation_etag(world_id: str, etag: str) -> ParsedEtag | None:
    """The etag's version, or None when it is not an activation etag of this world."""
    prefix = f"act:{world_id}:"
    if not etag.startswith(prefix):
        return None
    middle, _, version = etag[len(prefix) :].rpartition(":")
    if not _VERSION.fullmatch(version) or int(version) > MAX_VERSION:
        return None
    if middle == "set":
        return ParsedEtag(int(version), True)
    strategy_id, _, side = middle.rpartition(":")
    if side not in SIDES or not _STRATEGY_ID.fullmatch(strategy_id):
        return None
    return ParsedEtag(int(version), False)
