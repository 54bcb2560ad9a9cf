"""What each apply stage writes: pure functions from (current set, target) to entry changes.

An entry is the public activation dict (`active`, `weight`, `freeze`, `drain`, ...). Keys are
`(strategy_id, side)`. Freeze and unfreeze cover every strategy in current ∪ target, on every
side it has an entry (a new strategy gets one on its target side).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str]
Entry = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Target:
    """The activation set an apply moves to: ordered strategies, their weights and sides."""

    active: tuple[str, ...]
    weights: Mapping[str, float]
    sides: Mapping[str, str]
    # `active` as a set: membership is asked once per affected entry.
    _members: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_members", frozenset(self.active))

    def weight(self, strategy_id: str) -> float:
        return float(self.weights.get(strategy_id, 1.0))

    def selects(self, strategy_id: str, side: str) -> bool:
        """Whether the entry `(strategy_id, side)` is active in the target."""
        return strategy_id in self._members and self.sides.get(strategy_id, "long") == side


def target_from_plan(
    current: Sequence[str], activate: Sequence[str], deactivate: Sequence[str]
) -> tuple[str, ...]:
    """Current order minus the deactivated, then the newly activated in plan order.

    Linear in the sizes (sets, not list scans): a plan may name tens of thousands.
    """
    dropped = set(deactivate)
    kept = [strategy for strategy in current if strategy not in dropped]
    added = [strategy for strategy in activate if strategy not in dropped]
    return tuple(dict.fromkeys([*kept, *added]))


def affected_keys(
    entries: Mapping[Key, Entry], current: Sequence[str], target: Target
) -> list[Key]:
    """Every entry of a strategy in current ∪ target; "current" also counts any strategy whose
    entry is active (set by an override) though it is not among the decisions."""
    strategies = set(current) | set(target.active)
    strategies |= {key[0] for key, entry in entries.items() if entry.get("active")}
    keys = {key for key in entries if key[0] in strategies}
    keys |= {(strategy, target.sides.get(strategy, "long")) for strategy in target.active}
    return sorted(keys)


def _base(entries: Mapping[Key, Entry], key: Key, run_id: str) -> Entry:
    entry = dict(entries.get(key) or {"active": False, "weight": 0.0, "effective_mode": None})
    entry["run_id"] = run_id
    entry.pop("expires_at", None)  # an apply ends any override and its revert
    entry.pop("previous", None)
    return entry


def freeze_changes(
    entries: Mapping[Key, Entry], keys: Sequence[Key], run_id: str
) -> dict[Key, Entry]:
    """Gate every affected entry off: orders stop while the set changes."""
    return {
        key: {**_base(entries, key, run_id), "active": False, "freeze": True, "drain": True}
        for key in keys
    }


def switch_changes(
    entries: Mapping[Key, Entry], keys: Sequence[Key], target: Target, run_id: str
) -> dict[Key, Entry]:
    """Swap to the target set with its weights, still frozen."""
    changes: dict[Key, Entry] = {}
    for key in keys:
        strategy, side = key
        selected = target.selects(strategy, side)
        changes[key] = {
            **_base(entries, key, run_id),
            "active": selected,
            "weight": target.weight(strategy) if selected else 0.0,
            "freeze": True,
            "drain": True,
        }
    return changes


def unfreeze_changes(
    frozen: Mapping[Key, Entry], keys: Sequence[Key], run_id: str
) -> dict[Key, Entry]:
    """Gate the switched entries on again."""
    return {key: {**_base(frozen, key, run_id), "freeze": False, "drain": False} for key in keys}


def rollback_changes(
    before: Mapping[Key, Entry], now: Mapping[Key, Entry]
) -> dict[Key, Entry | None]:
    """Back to the pre-apply set exactly: entries the apply created are removed."""
    changes: dict[Key, Entry | None] = {key: None for key in now if key not in before}
    changes.update({key: dict(entry) for key, entry in before.items() if now.get(key) != entry})
    return changes
