"""Reads of world policies."""

from __future__ import annotations

from typing import Any

from worlds.models import World


def describe_default_policy(world: World) -> dict[str, Any]:
    """`policy` (the default version's normalised document) and `policy_human` for describe."""
    return {"policy": None, "policy_human": None}
